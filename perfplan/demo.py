"""`perfplan demo`: Zhang's plan (DOMAIN.md) through its whole life on the engine,
with simulated time, printed as a timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table
from sqlalchemy import Engine

from models import migrate
from models.clock import FrozenClock
from models.db import make_engine, session_scope
from perfplan.common import console, database_url
from states import audit, engine, records
from states.errors import StatesError
from states.plans import create_plan, read_document_file
from states.queries import plan_detail

EXAMPLE = Path(__file__).parent / "examples" / "zhang.yaml"
START = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)


class Demo:
    """Runs steps at simulated instants and keeps the timeline."""

    def __init__(self, db: Engine, clock: FrozenClock) -> None:
        self.db, self.clock = db, clock
        self.timeline = Table("when", "who", "what", "state", title="Zhang's plan, as it happened")
        self.plan_id = 0

    def at(self, when: str) -> None:
        self.clock.set(datetime.fromisoformat(when).replace(tzinfo=UTC))

    def step(self, who: str, what: str, action: Callable[[Any], object]) -> None:
        try:
            with session_scope(self.db) as session:
                action(session)
            state = self._state()
            self.timeline.add_row(self.clock().strftime("%Y-%m-%d %H:%M"), who, what, state)
        except StatesError as refused:
            self.timeline.add_row(
                self.clock().strftime("%Y-%m-%d %H:%M"),
                who,
                f"[red]refused[/]: {what}\n  [dim]{refused}[/]",
                self._state(),
            )

    def _state(self) -> str:
        with session_scope(self.db) as session:
            return engine.load_plan(session, self.plan_id).state


def _sign(demo: Demo, who: str, role: str, comment: str = "") -> None:
    demo.step(
        who,
        f"signs as {role}",
        lambda s: engine.sign(
            session=s, plan_id=demo.plan_id, actor=who, now=demo.clock(), comment=comment
        ),
    )


def _fire(demo: Demo, who: str, event: str, **kwargs: Any) -> None:
    demo.step(
        who,
        event,
        lambda s: engine.fire(
            session=s, plan_id=demo.plan_id, event=event, actor=who, now=demo.clock(), **kwargs
        ),
    )


def _record(demo: Demo, who: str, what: str, service: Callable[..., object], **kwargs: Any) -> None:
    demo.step(
        who,
        what,
        lambda s: service(session=s, plan_id=demo.plan_id, actor=who, now=demo.clock(), **kwargs),
    )


def _agreement(demo: Demo) -> None:
    document = read_document_file(EXAMPLE)
    demo.at("2026-08-25T09:00")
    with session_scope(demo.db) as session:
        demo.plan_id = create_plan(
            session=session, document=document, actor="wang", now=demo.clock(), source=str(EXAMPLE)
        )
    demo.timeline.add_row("2026-08-25 09:00", "wang", f"opens plan {demo.plan_id}", "drafted")
    demo.at("2026-08-26T10:00")
    _sign(demo, "li", "manager")  # refused: the employee signs first
    demo.at("2026-08-26T10:30")
    _sign(demo, "zhang", "employee", "同意计划，会按时提交报告")
    demo.at("2026-08-26T15:00")
    _sign(demo, "li", "manager")
    demo.at("2026-08-27T11:00")
    _fire(demo, "li", "start")  # refused: not agreed yet
    _sign(demo, "wang", "HR")
    demo.at("2026-09-01T09:00")
    _fire(demo, "li", "start", comment="Kick-off 1:1 held")


def _tracking(demo: Demo) -> None:
    demo.at("2026-09-04T18:00")
    _record(
        demo,
        "zhang",
        "progress report",
        records.report_progress,
        summary="培训已报名；与技术支持约定了对接人",
        blockers="",
    )
    demo.at("2026-09-07T10:00")
    _record(
        demo,
        "li",
        "coaching (15 min)",
        records.record_coaching,
        notes="Prepare the needs-analysis template before the training",
    )
    demo.at("2026-09-15T17:00")
    _record(
        demo,
        "li",
        "milestone training_attended done",
        records.complete_milestone,
        milestone="training_attended",
    )
    demo.at("2026-09-30T16:00")
    _record(demo, "li", "measures training = 86", records.measure, goal="training", value=86)
    _record(
        demo,
        "li",
        "milestone training_passed done",
        records.complete_milestone,
        milestone="training_passed",
    )
    demo.at("2026-10-09T18:00")
    _record(
        demo,
        "zhang",
        "progress report",
        records.report_progress,
        summary="2 reports done this week, 1 approved",
        blockers="the rest waits on data from the technical department",
    )


def _adjustment(demo: Demo) -> None:
    demo.at("2026-10-12T10:00")
    _record(
        demo,
        "li",
        "adjusts report_1: due 10-09 → 10-16",
        records.adjust,
        kind="milestone",
        key="report_1",
        changes={"due": "2026-10-16"},
        reason="customer data from the technical department arrived a week late",
    )
    demo.at("2026-10-12T14:00")
    _sign(demo, "zhang", "employee (re-confirms)")
    _sign(demo, "li", "manager (re-confirms)")
    for when, key in (
        ("2026-10-16T17:00", "report_1"),
        ("2026-10-20T17:00", "report_2"),
        ("2026-10-30T17:00", "report_3"),
        ("2026-10-30T17:30", "response_36h"),
        ("2026-10-31T12:00", "contracts_oct"),
    ):
        demo.at(when)
        _record(demo, "li", f"milestone {key} done", records.complete_milestone, milestone=key)


def _evaluation(demo: Demo) -> None:
    demo.at("2026-11-30T16:00")
    for goal, value, source in (
        ("contracts", 95, "CRM quarterly report"),
        ("reports", 100, "manager's approval log"),
        ("response_time", 24, "OA ticket records"),
    ):
        _record(
            demo,
            "li",
            f"measures {goal} = {value}",
            records.measure,
            goal=goal,
            value=value,
            source=source,
        )
    for key in ("contracts_nov", "response_24h"):
        _record(demo, "li", f"milestone {key} done", records.complete_milestone, milestone=key)
    demo.at("2026-12-01T10:00")
    _fire(
        demo,
        "li",
        "evaluate",
        inputs={
            "outcome": "successful",
            "feedback": "From 60 % to 95 % of the contract target; every analysis report approved.",
            "lessons": "Keep the needs-analysis template; run the industry training for new hires.",
        },
    )


def _summary(demo: Demo) -> None:
    with session_scope(demo.db) as session:
        detail = plan_detail(session, demo.plan_id)
        report = audit.verify(session, demo.plan_id)
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
    console.print(results)
    verdict = "[green]verifies[/]" if report.ok else f"[red]BROKEN[/]: {report.breaks}"
    console.print(f"Audit trail: {report.records} hash-chained records, {verdict}.")
    console.print(f"Database: {database_url()}")
    console.print(
        f"Look closer:  perfplan plan show {demo.plan_id}  ·  "
        f"perfplan audit log {demo.plan_id}  ·  perfplan config diagram standard "
        f"--plan {demo.plan_id}"
    )


def run(started_at: datetime | None = None) -> None:
    """Play the whole plan; `started_at` only shifts nothing but is accepted for --now."""
    db = make_engine(database_url())
    migrate.upgrade(db)
    demo = Demo(db, FrozenClock(started_at or START))
    try:
        _agreement(demo)
        _tracking(demo)
        _adjustment(demo)
        _evaluation(demo)
        console.print(demo.timeline)
        _summary(demo)
    finally:
        db.dispose()
