"""`perfplan demo`: Zhang's plan (docs/domain.md) through its whole life, with simulated
time and the real clockwork: each step a plan activity (`perfplan.activities`) done
as a door does it, every change dispatched by Prefect flows, a sweep each morning,
messages in Chinese and English in the file outbox, the evaluation report at the end."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine, select

from models import migrate
from models.clock import FrozenClock
from models.db import make_engine, session_scope
from models.tables import NOTIFICATION, SIGNED_COPY
from people.errors import PeopleError
from perfplan.activities import ACTIVITIES, Act
from perfplan.cli.common import console, database_url
from states import audit
from states.engine import firing as engine
from states.errors import StatesError
from states.plans.opening import create_plan, read_document_file
from views.detail import plan_detail

EXAMPLE = Path(__file__).parent / "examples" / "zhang.yaml"
FIRST_DAY = date(2026, 8, 25)
LAST_DAY = date(2026, 12, 1)
SWEEP_HOUR = 2  # UTC: 10:00 in Beijing, after the 09:00 reminders fall due


class Demo:
    """Runs scripted steps and daily sweeps at simulated instants, and prints the timeline
    as it happens: a line for each step and for each batch of messages sent."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self.clock = FrozenClock(datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC))
        self.plan_id = 0
        self.last_message = 0
        self.last_state = "-"

    def state(self) -> str:
        with session_scope(self.db) as session:
            return engine.load_plan(session, self.plan_id).state if self.plan_id else "-"

    def row(self, who: str | Text, what: str | Text, *, after: bool = True) -> None:
        """One line of the timeline, and the plan's new state when the step changed it."""
        line = Text.assemble(
            self.clock().strftime("%Y-%m-%d %H:%M"), " │ ", who, " " * (8 - len(who)), " │ ", what
        )
        state = self.state() if after else self.last_state
        if state != self.last_state:
            line.append_text(Text.assemble("  → ", (state, "bold")))
            self.last_state = state
        console.print(line, soft_wrap=True)

    def step(self, step: Step) -> None:
        """Perform the step now; a refusal is on the timeline, in red, with its reason."""
        activity = ACTIVITIES[step.activity]
        fields = dict(step.fields)
        key = fields.pop(activity.key) if activity.key else None
        try:
            body = activity.parse(fields, key=key)
            with session_scope(self.db) as session:
                act = Act(self.plan_id, step.who, self.clock(), key)
                activity.perform(session, act, body)
        except (StatesError, PeopleError) as refused:
            said = Text.assemble(("refused", "red"), f": {step.what} — ", (str(refused), "dim"))
            self.row(step.who, said)
            return
        self.row(step.who, step.what)
        self.clockwork("dispatch")

    def clockwork(self, which: str) -> None:
        """Run the dispatcher or the sweep as Prefect flows, then deliver; list what went out.

        A morning with nothing due runs no flow, as `perfplan sweep` from cron would not."""
        from workflows.flows import deliver_flow, dispatch_flow, sweep_flow
        from workflows.sweep import due_count

        as_of = self.clock().isoformat()
        if which == "sweep":
            if not due_count(self.db, as_of=self.clock()):
                return
            sweep_flow(as_of=as_of)
        else:
            dispatch_flow(as_of=as_of)
        deliver_flow(as_of=as_of)
        self._messages()

    def _messages(self) -> None:
        with session_scope(self.db) as session:
            rows = session.execute(
                select(
                    NOTIFICATION.c.id,
                    NOTIFICATION.c.kind,
                    NOTIFICATION.c.recipient_name,
                    NOTIFICATION.c.locale,
                )
                .where(NOTIFICATION.c.id > self.last_message)
                .order_by(NOTIFICATION.c.id)
            ).all()
        if not rows:
            return
        self.last_message = rows[-1].id
        by_kind: dict[str, list[str]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(f"{row.recipient_name} ({row.locale})")
        for kind, people in by_kind.items():
            sent = Text.assemble((f"✉ {kind}", "cyan"), f" → {', '.join(people)}")
            self.row(Text("perfplan", "dim"), sent, after=False)

    def at(self, when: str) -> None:
        self.clock.set(datetime.fromisoformat(when).replace(tzinfo=UTC))


@dataclass(frozen=True)
class Step:
    """Someone performs a plan activity (`perfplan.activities`), as a door would."""

    who: str
    what: str
    activity: str
    fields: dict[str, Any] = field(default_factory=dict)


def _sign(who: str, role: str, comment: str = "") -> Step:
    return Step(who, f"signs as {role}", "sign", {"comment": comment})


def _fire(who: str, event: str, **fields: Any) -> Step:
    return Step(who, event, "fire", {"event": event, **fields})


def _done(key: str) -> Step:
    return Step("li", f"milestone {key} done", "complete_milestone", {"milestone": key})


def _measured(goal: str, value: float, source: str = "") -> Step:
    return Step(
        "li",
        f"measures {goal} = {value:g}",
        "measure",
        {"goal": goal, "value": value, "source": source},
    )


# (instant, step) — the plan's life as docs/domain.md tells it.
SCRIPT: list[tuple[str, Step]] = [
    ("2026-08-26T10:00", _sign("li", "manager")),  # refused: the employee signs first
    ("2026-08-26T10:30", _sign("zhang", "employee", "同意计划，会按时提交报告")),
    ("2026-08-26T15:00", _sign("li", "manager")),
    ("2026-08-28T11:00", _fire("li", "start")),  # refused: HR has not signed yet
    ("2026-08-28T11:30", _sign("wang", "HR")),
    ("2026-09-01T09:00", _fire("li", "start", comment="Kick-off 1:1 held")),
    (
        "2026-09-04T10:00",
        Step(
            "zhang",
            "progress report",
            "report_progress",
            {"summary": "培训已报名；与技术支持约定了对接人"},
        ),
    ),
    (
        "2026-09-07T10:00",
        Step(
            "li",
            "coaching (15 min)",
            "record_coaching",
            {"notes": "Prepare the needs-analysis template before the training"},
        ),
    ),
    ("2026-09-15T09:00", _done("training_attended")),
    ("2026-09-30T08:00", _measured("training", 86)),
    ("2026-09-30T08:05", _done("training_passed")),
    (
        "2026-10-09T10:00",
        Step(
            "zhang",
            "progress report",
            "report_progress",
            {
                "summary": "2 reports done this week, 1 approved",
                "blockers": "the rest waits on data from the technical department",
            },
        ),
    ),
    (
        "2026-10-14T09:00",
        Step(
            "li",
            "adjusts report_1: due 10-09 → 10-16",
            "adjust",
            {
                "kind": "milestone",
                "key": "report_1",
                "changes": {"due": "2026-10-16"},
                "reason": "customer data from the technical department came late",
            },
        ),
    ),
    ("2026-10-14T14:00", _sign("zhang", "employee (re-confirms)")),
    ("2026-10-14T14:30", _sign("li", "manager (re-confirms)")),
    ("2026-10-16T09:00", _done("report_1")),
    ("2026-10-20T09:00", _done("report_2")),
    ("2026-10-30T08:00", _done("report_3")),
    ("2026-10-30T08:30", _done("response_36h")),
    ("2026-10-31T08:00", _done("contracts_oct")),
    (
        "2026-11-04T09:00",
        Step(
            "li",
            "adjusts case_study: Wednesdays → Thursdays",
            "adjust",
            {
                "kind": "action",
                "key": "case_study",
                "changes": {"recurrence": "FREQ=WEEKLY;BYDAY=TH"},
                "reason": "Chen Jing's team meeting moved to Wednesday afternoons",
            },
        ),
    ),
    ("2026-11-04T14:00", _sign("zhang", "employee (re-confirms)")),
    ("2026-11-04T14:30", _sign("li", "manager (re-confirms)")),
    ("2026-11-30T08:00", _measured("contracts", 95, "CRM quarterly report")),
    ("2026-11-30T08:01", _measured("reports", 100, "manager's approval log")),
    ("2026-11-30T08:02", _measured("response_time", 24, "OA ticket records")),
    ("2026-11-30T08:03", _done("contracts_nov")),
    ("2026-11-30T08:04", _done("response_24h")),
    (
        "2026-12-01T09:00",
        _fire(
            "li",
            "evaluate",
            inputs={
                "outcome": "successful",
                "feedback": (
                    "From 60 % to 95 % of the contract target; every analysis report approved."
                ),
                "lessons": (
                    "Keep the needs-analysis template; run the industry training for new hires."
                ),
            },
        ),
    ),
]


def _play(demo: Demo) -> None:
    document = read_document_file(EXAMPLE)
    demo.at("2026-08-25T09:00")
    with session_scope(demo.db) as session:
        demo.plan_id = create_plan(
            session=session, document=document, actor="wang", now=demo.clock(), source=str(EXAMPLE)
        )
    demo.row("wang", f"opens plan {demo.plan_id} ({document.definition})")
    demo.clockwork("dispatch")
    script = sorted(SCRIPT, key=lambda entry: entry[0])
    day = FIRST_DAY
    while day <= LAST_DAY:
        demo.at(f"{day.isoformat()}T{SWEEP_HOUR:02d}:00")
        demo.clockwork("sweep")
        for when, step in [e for e in script if e[0].startswith(day.isoformat())]:
            demo.at(when)
            demo.step(step)
        day += timedelta(days=1)


def _results_table(detail: dict[str, Any]) -> Table:
    goals = {g["id"]: g for g in detail["goals"]}
    results = Table(
        "goal",
        "baseline → target",
        "actual",
        "attainment",
        "met",
        title=f"Evaluation: {detail['evaluation']['outcome']}",
    )
    for result in detail["results"]:
        goal = goals[result["goal_id"]]
        baseline = "–" if goal["baseline"] is None else f"{goal['baseline']:g}"
        results.add_row(
            goal["key"],
            f"{baseline} → {goal['target']:g} {goal['unit']}",
            f"{result['actual']:g}",
            f"{result['attainment']:.0%}",
            "yes" if result["met"] else "no",
        )
    return results


def _copies_table(demo: Demo, directory: Path) -> Table:
    """The signed copies kept at the agreement and each re-confirmation, written beside
    the report, with the digest their signatures bind."""
    from views.copies import plan_copies

    table = Table("#", "signed", "by", "content SHA-256", "files", title="Signed copies")
    with session_scope(demo.db) as session:
        copies = plan_copies(session, demo.plan_id)
        documents = session.execute(
            select(SIGNED_COPY.c.number, SIGNED_COPY.c.pdf, SIGNED_COPY.c.html).where(
                SIGNED_COPY.c.plan_id == demo.plan_id
            )
        ).all()
    files = {number: (pdf, html) for number, pdf, html in documents}
    directory.mkdir(parents=True, exist_ok=True)
    for copy in copies:
        written = []
        for fmt, data in zip(("pdf", "html"), files[copy.number], strict=True):
            if data is not None:
                (directory / copy.filename(fmt)).write_bytes(data)
                written.append(str(directory / copy.filename(fmt)))
        table.add_row(
            str(copy.number),
            f"{copy.event} {copy.sealed_at:%Y-%m-%d %H:%M}",
            ", ".join(copy.signers),
            copy.content_digest,
            "\n".join(written) or "not rendered",
        )
    return table


def _summary(demo: Demo) -> None:
    with session_scope(demo.db) as session:
        detail = plan_detail(session, demo.plan_id, today=demo.clock().date()).as_json()
        report = audit.verify(session, demo.plan_id)
        locales = session.execute(
            select(NOTIFICATION.c.locale, NOTIFICATION.c.kind).where(
                NOTIFICATION.c.plan_id == demo.plan_id
            )
        ).all()
    console.print(_results_table(detail))
    from notifications.settings import NotificationSettings
    from workflows.settings import WorkflowSettings

    outbox = NotificationSettings().outbox_dir
    reports = sorted(WorkflowSettings().reports_dir.glob(f"plan-{demo.plan_id}-evaluation.*"))
    zh = sum(1 for locale, _ in locales if locale == "zh-CN")
    console.print(
        f"Messages: {len(locales)} in {outbox}/ ({zh} in Chinese, {len(locales) - zh} in English)."
    )
    console.print("Evaluation report: " + ", ".join(str(p) for p in reports))
    console.print(_copies_table(demo, reports[0].parent if reports else Path()))
    verdict = (
        Text("verifies", "green")
        if report.ok
        else Text.assemble(("BROKEN", "red"), f": {report.breaks}")
    )
    console.print(
        Text.assemble(f"Audit trail: {report.records} hash-chained records, ", verdict, ".")
    )
    console.print(f"Database: {shown_url(database_url())}")
    console.print("Look closer, on this database (from this folder):")
    for command in (f"plan show {demo.plan_id}", f"audit log {demo.plan_id}", "audit verify"):
        console.print(f"  {again(command)}", soft_wrap=True)
    console.print(
        f"  and: perfplan report {demo.plan_id}  ·  perfplan audit receipt FILE  ·  "
        f"perfplan audit export-case {demo.plan_id} --out case.zip"
    )


def shown_url(url: str) -> str:
    """The database's URL as it may be printed: a password never is."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def again(command: str) -> str:
    """A perfplan command that a user can paste into their shell to reach this database:
    PERFPLAN_DATABASE_URL set to it, and the perfplan of this virtualenv, by its path
    when it is not the one on the PATH."""
    installed = Path(sys.executable).parent / "perfplan"
    on_path = shutil.which("perfplan")
    program = "perfplan"
    if not on_path or Path(on_path).resolve() != installed.resolve():
        program = (
            os.path.relpath(installed) if installed.is_relative_to(Path.cwd()) else str(installed)
        )
    url = shlex.quote(shown_url(database_url()))
    return f"PERFPLAN_DATABASE_URL={url} {shlex.quote(program)} {command}"


def run(started_at: datetime | None = None, *, force: bool = False) -> int:
    """Play the whole plan with the flows in this process (embedded Prefect); the plan's id.

    A database that holds plans already is refused, changed in nothing, unless `force`."""
    del started_at  # the story has its own dates; --now is accepted like everywhere
    from workflows.runtime import embedded

    # Prefect's own INFO lines (one per flow run) would drown the timeline;
    # warnings and errors still show.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    db = make_engine(database_url())
    try:
        _refuse_a_database_in_use(db, force=force)
        migrate.upgrade(db)
        demo = Demo(db)
        console.print(
            "Zhang's plan, as it happens (UTC). Its flows run on Prefect in this process, "
            "which starts with the first of them (a few seconds; longer the first time)."
        )
        with embedded():
            _play(demo)
        _summary(demo)
    finally:
        db.dispose()
    return demo.plan_id


def _refuse_a_database_in_use(db: Engine, *, force: bool) -> None:
    from sqlalchemy import func

    from models.db import schema_exists
    from models.tables import PLAN
    from perfplan.errors import DatabaseInUse

    if force or not schema_exists(db):
        return
    with session_scope(db) as session:
        plans = session.execute(select(func.count()).select_from(PLAN)).scalar_one()
    if plans:
        raise DatabaseInUse(shown_url(database_url()), plans)
