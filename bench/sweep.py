"""Benchmark: the follow-up sweep over 100,000 active plans with 1,000,000 milestones.

Measures a sweep with nothing due, and a sweep with 10,000 reminders and
escalations due: claiming the timers, checking each, and recording every message
in the delivery ledger. The due timers are a mix of every kind a sweep meets, in
equal parts (`MIX`): milestones due soon, each rung of the escalation ladder
(employee and manager, the department head, HR), progress-report and coaching
reminders (which schedule their next occurrence), signature reminders of
plans waiting to be re-confirmed (each reads its approval chain), and the
ladders of every other timer kind (a missed report, a missed talk, a chain
waiting, an evaluation overdue), one of whose rungs tells a standing role. Timers that
fell due before are recorded as sent, as the mornings' sweeps before would have
left them. The setup writes plans, roles, milestones and the timers
`states.followups.schedule` would write, in bulk, with the real business-day
calendar. Last line: one JSON object.

    .venv/bin/python bench/sweep.py [--plans 100000] [--milestones-per-plan 10] [--due 10000]
        [--reuse PATH]

The setup takes minutes; with `--reuse PATH` it is written to PATH once (if
PATH does not exist) and kept, and each run sweeps a fresh copy of it (the
sweep changes the file), so that runs compare code, not set-ups.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from models.db import analyze, create_schema, make_engine, session_scope
from models.tables import (
    DEFINITION_VERSION,
    DEPARTMENT,
    FOLLOWUP,
    GOAL,
    MILESTONE,
    ORG_ROLE,
    PERSON,
    PLAN,
    PLAN_ROLE,
)
from people.orgaudit import Acting
from states import timers as followups
from states.definitions import catalog
from states.definitions.calendar import BusinessCalendar
from states.definitions.durations import parse_duration
from workflows import sweep

AS_OF = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # a Monday: a cadence day of every plan
START = date(2027, 1, 4)
# What falls due at AS_OF, in equal parts of the due plans (one timer each).
MIX = (
    "milestone_due_soon",
    "rung_1",
    "rung_2",
    "rung_3",
    "progress_report_due",
    "coaching_session_due",
    "signature_pending",
    "progress_report_missed",
    "coaching_missed",
    "signature_waiting",
    "evaluation_overdue",
)
# The standard definition with a ladder for every other timer kind (as an admin adds).
LADDERS = """\
    progress_report_missed:
      - {after: 1 business day, notify: [employee, manager]}
      - {after: 3 business days, notify: [department_head]}
    coaching_missed:
      - {after: P0D, notify: [manager]}
      - {after: 3 business days, notify: [hr]}
    signature_waiting:
      - {after: 2 business days, notify: [hr, standing:hr]}
      - {after: 5 business days, notify: [department_head]}
    evaluation_overdue:
      - {after: P0D, notify: [manager, hr]}
      - {after: 5 business days, notify: [department_head]}
"""
WAITING = ("signature_pending", "signature_waiting")  # plans waiting to be re-confirmed


def _people(conn, plans: int) -> None:
    head = plans + 3  # heads the department: the second rung tells them
    rows = [
        {
            "id": i,
            "key": f"p{i}",
            "name": f"Person {i}",
            "email": f"p{i}@example.com",
            "locale": "zh-CN" if i % 2 else "en",
            "department_id": None,
            "manager_id": None,
        }
        for i in range(1, plans + 4)
    ]
    conn.execute(insert(PERSON), rows)
    conn.execute(insert(DEPARTMENT), [{"id": 1, "name": "Sales", "head_id": head}])
    conn.execute(text("UPDATE person SET department_id = 1"))
    # HR for Sales as a standing role: what `standing:hr` tells.
    conn.execute(
        insert(ORG_ROLE),
        [{"person_id": plans + 2, "role": "hr", "department_id": 1, "granted_at": AS_OF}],
    )


def _scenarios(plans: int, due: int) -> dict[int, str]:
    """The plans with a timer due at AS_OF, and which kind of timer (MIX, in turn)."""
    chosen = random.Random(7).sample(range(1, plans + 1), due)
    return {plan_id: MIX[n % len(MIX)] for n, plan_id in enumerate(chosen)}


def _plans(conn, plans: int, definition, scenarios: dict[int, str]) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    conn.execute(
        insert(PLAN),
        [
            {
                "id": i,
                "title": f"Plan {i}",
                "reason": "kpi_below_target",
                "definition_name": definition.name,
                "definition_version": definition.version,
                "definition_hash": definition.hash,
                "state": "adjusted" if scenarios.get(i) in WAITING else "in_progress",
                "version": 5,
                "epoch": 3,
                "period_start": START,
                "period_end": START + timedelta(days=180),
                "report_every": "P1W",
                "coaching_every": "P1W",
                "content_digest": "x",
                "audit_seq": 0,
                "audit_head": "0" * 64,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(1, plans + 1)
        ],
    )
    roles = []
    for i in range(1, plans + 1):
        roles += [
            {"plan_id": i, "person_id": i, "role": "employee"},
            {"plan_id": i, "person_id": plans + 1, "role": "manager"},
            {"plan_id": i, "person_id": plans + 2, "role": "hr"},
        ]
    conn.execute(insert(PLAN_ROLE), roles)
    conn.execute(
        insert(GOAL),
        [
            {
                "id": i,
                "plan_id": i,
                "key": "g",
                "title": "Goal",
                "metric": "m",
                "unit": "%",
                "baseline": 50,
                "target": 90,
                "direction": "raise",
                "deadline": START,
                "priority": 1,
                "source": "",
            }
            for i in range(1, plans + 1)
        ],
    )


def _at(day: date) -> datetime:
    return datetime.combine(day, followups.REMINDER_TIME, tzinfo=UTC)


def _timer(
    plan_id: int,
    kind: str,
    subject: str,
    level: int,
    due: date | None,
    at: datetime,
    status: str = "pending",
) -> dict:
    dedup = followups.dedup_key(plan_id, kind, subject, level, due)
    return {
        "key": f"{dedup}:e3",
        "dedup_key": dedup,
        "plan_id": plan_id,
        "kind": kind,
        "subject": subject,
        "level": level,
        "epoch": 3,
        "subject_due": due,
        "due_at": at,
        "status": status,
        "created_at": AS_OF,
    }


def _milestone_timers(
    plan_id: int, key: str, due: date, ladder: list[date], soon: date
) -> list[dict]:
    """A milestone's due-soon reminder and ladder; those due before AS_OF's rung were
    sent by earlier sweeps, the last one due is pending now."""
    days = [("milestone_due_soon", 0, soon)]
    days += [("milestone_overdue", n, day) for n, day in enumerate(ladder, start=1)]
    due_now = [n for n, (_, _, day) in enumerate(days) if _at(day) <= AS_OF]
    return [
        _timer(plan_id, kind, key, level, due, _at(day), "sent" if n in due_now[:-1] else "pending")
        for n, (kind, level, day) in enumerate(days)
    ]


class _Ladder:
    """Each milestone's dates on the business-day calendar, computed once per due date."""

    def __init__(self, definition) -> None:
        self.calendar = BusinessCalendar(definition.spec.timers.calendar)
        self.lead = parse_duration(definition.spec.timers.milestone_due_soon)
        self.rungs = [
            parse_duration(r.after) for r in definition.spec.timers.escalation["milestone_overdue"]
        ]
        self.known: dict[date, tuple[date, list[date]]] = {}

    def dates(self, due: date) -> tuple[date, list[date]]:
        if due not in self.known:
            first = self.calendar.add_working_days(due, 1)
            self.known[due] = (
                self.calendar.shift(due, self.lead, backwards=True),
                [self.calendar.shift(first, after) for after in self.rungs],
            )
        return self.known[due]

    def due_for_rung(self, level: int) -> date:
        """The latest due date whose rung `level` falls due by AS_OF, the next one not."""
        due = AS_OF.date()
        while True:
            due -= timedelta(days=1)
            rungs = self.dates(due)[1]
            if _at(rungs[level - 1]) <= AS_OF and (
                level == len(rungs) or _at(rungs[level]) > AS_OF
            ):
                return due


def _rung_timers(plan_id: int, scenario: str) -> list[dict]:
    """The first rung of a ladder past the milestones', due at AS_OF, and its second,
    pending (the message names when it comes)."""
    subject, due = {
        "progress_report_missed": ("2027-02-22", date(2027, 2, 22)),
        "coaching_missed": ("2027-02-22", date(2027, 2, 22)),
        "signature_waiting": ("reconfirm", None),
        "evaluation_overdue": ("", START + timedelta(days=180)),
    }[scenario]
    return [
        _timer(plan_id, scenario, subject, 1, due, AS_OF - timedelta(hours=1)),
        _timer(plan_id, scenario, subject, 2, due, AS_OF + timedelta(days=3)),
    ]


def _due_timer(plan_id: int, scenario: str) -> list[dict]:
    """The timer of a non-milestone scenario that falls due at AS_OF."""
    if scenario == "signature_pending":
        return [_timer(plan_id, scenario, "reconfirm", 1, None, AS_OF - timedelta(hours=1))]
    if scenario in followups.LADDERS:
        return _rung_timers(plan_id, scenario)
    # Weekly from START: AS_OF's day is a cadence day; the report is asked a day before.
    before = timedelta(days=1) if scenario == "progress_report_due" else timedelta(0)
    day = AS_OF.date()
    return [_timer(plan_id, scenario, day.isoformat(), 0, day, _at(day) - before)]


def _first_due(scenario: str | None, ladder: _Ladder) -> date | None:
    """The due date of a plan's first milestone when the scenario needs one now."""
    if scenario == "milestone_due_soon":
        return AS_OF.date() + timedelta(days=2)  # its reminder fell due before AS_OF
    if scenario and scenario.startswith("rung_"):
        return ladder.due_for_rung(int(scenario[-1]))
    return None


def _milestones(conn, plans: int, per_plan: int, scenarios: dict[int, str], definition) -> None:
    """Milestones due in the future, except those the scenarios need due now."""
    ladder = _Ladder(definition)
    milestones, timers = [], []
    for plan_id in range(1, plans + 1):
        scenario = scenarios.get(plan_id)
        first = _first_due(scenario, ladder)
        for n in range(per_plan):
            later = AS_OF.date() + timedelta(days=30 + (plan_id + n * 7) % 120)
            due = first if n == 0 and first else later
            key = f"m{n}"
            milestones.append(
                {
                    "plan_id": plan_id,
                    "goal_id": plan_id,
                    "key": key,
                    "title": f"Milestone {n}",
                    "due": due,
                    "criterion": "",
                    "status": "pending",
                }
            )
            soon, rungs = ladder.dates(due)
            timers += _milestone_timers(plan_id, key, due, rungs, soon)
        if scenario and first is None:
            timers += _due_timer(plan_id, scenario)
        if len(milestones) >= 100_000:
            conn.execute(insert(MILESTONE), milestones)
            conn.execute(insert(FOLLOWUP), timers)
            milestones, timers = [], []
    if milestones:
        conn.execute(insert(MILESTONE), milestones)
        conn.execute(insert(FOLLOWUP), timers)


def bench_definition():
    """The standard definition, version 2, with LADDERS added to its escalations."""
    text = catalog.find("standard").source.replace("version: 1", "version: 2", 1)
    return catalog.compile_text(text.rstrip("\n") + "\n" + LADDERS, source="bench")


def setup(url: str, plans: int, per_plan: int, due: int) -> None:
    engine = make_engine(url)
    create_schema(engine)
    definition = bench_definition()
    with session_scope(engine) as session:
        catalog.install(session, definition, AS_OF, by=Acting("bench", "cli"))
    scenarios = _scenarios(plans, due)
    with engine.begin() as conn:
        _people(conn, plans)
        _plans(conn, plans, definition, scenarios)
        _milestones(conn, plans, per_plan, scenarios, definition)
    analyze(engine)
    engine.dispose()
    assert DEFINITION_VERSION is not None


def _reused(path: Path, args: argparse.Namespace, folder: str) -> str:
    """A copy of the database kept at `path` (built there first if missing) to sweep."""
    shape = {
        "plans": args.plans,
        "per_plan": args.milestones_per_plan,
        "due": args.due,
        "mix": list(MIX),
    }
    sidecar = path.with_name(path.name + ".json")
    if not path.exists():
        partial = path.with_name(path.name + ".part")  # never mistaken for a whole one
        partial.unlink(missing_ok=True)
        setup(f"sqlite:///{partial}", args.plans, args.milestones_per_plan, args.due)
        sidecar.write_text(json.dumps(shape))
        partial.rename(path)
    elif json.loads(sidecar.read_text()) != shape:
        raise SystemExit(f"{path} was built for {sidecar.read_text()}, not {shape}")
    copy = Path(folder) / "sweep.db"
    shutil.copyfile(path, copy)
    return f"sqlite:///{copy}"


def _prepare(args: argparse.Namespace, folder: str) -> str:
    """The URL of a database set up for the sweeps."""
    url = args.database_url or f"sqlite:///{folder}/sweep.db"
    started = time.perf_counter()
    if args.reuse:
        url = _reused(args.reuse, args, folder)
    else:
        setup(url, args.plans, args.milestones_per_plan, args.due)
    # The setup leaves gigabytes of dirty pages; flushed now, their write-back
    # does not land inside the timed sweeps.
    os.sync()
    print(
        f"setup{' (a copy)' if args.reuse else ''}: {args.plans} plans, "
        f"{args.plans * args.milestones_per_plan} milestones, "
        f"{4 * args.plans * args.milestones_per_plan} timers "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return url


def _sweeps(url: str) -> tuple[float, sweep.SweepReport, float]:
    """The sweep with nothing due (ms), and the one with everything due (report, s)."""
    engine = make_engine(url)
    try:
        t0 = time.perf_counter()
        quiet = sweep.sweep(engine, as_of=AS_OF - timedelta(days=30))
        nothing_ms = (time.perf_counter() - t0) * 1000
        print(f"sweep with nothing due: {nothing_ms:.1f} ms ({quiet.reminders} reminders)")
        t0 = time.perf_counter()
        busy = sweep.sweep(engine, as_of=AS_OF)
        busy_s = time.perf_counter() - t0
        print(
            f"sweep with {busy.reminders} due: {busy_s:.2f} s, {busy.recorded} messages recorded "
            f"in {busy.batches} batches ({busy.reminders / busy_s:.0f} reminders/s)"
        )
    finally:
        engine.dispose()
    return nothing_ms, busy, busy_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--milestones-per-plan", type=int, default=10)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", type=Path, metavar="PATH", help="keep the set-up database here")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="perfplan-bench-")
    try:  # the folder holds only this run's files (a database, or a copy): gigabytes
        url = _prepare(args, folder)
        nothing_ms, busy, busy_s = _sweeps(url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "sweep",
                "database": url.split(":")[0],
                "plans": args.plans,
                "milestones": args.plans * args.milestones_per_plan,
                "nothing_due_ms": round(nothing_ms, 2),
                "due": busy.reminders,
                "due_sweep_s": round(busy_s, 3),
                "messages_recorded": busy.recorded,
                "reminders_per_s": round(busy.reminders / busy_s),
                "by_kind": busy.by_kind,
                "goal_nothing_due_ms": 100,
                "goal_due_sweep_s": 5,
            }
        )
    )


if __name__ == "__main__":
    main()
