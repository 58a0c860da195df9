"""Prefect flows: thin wrappers that receive ids and instants, open their own
database engine, and call the plain services. No business rule lives here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import Engine

from models.clock import now as clock_now
from models.clock import parse_instant
from models.db import make_engine, session_scope
from states.definitions.schema import Effect
from workflows import announcements, dispatch, messages, sweep
from workflows.announcements import PlanReads


def _instant(as_of: str | None) -> datetime:
    return parse_instant(as_of) if as_of else clock_now()


def _engine() -> Engine:
    return make_engine()


@flow(name="perfplan-evaluation-report", log_prints=False)
def report_flow(plan_id: int, as_of: str | None = None) -> list[str]:
    """Render a plan's evaluation report, write it, publish it as an artifact."""
    from workflows.report import produce_report

    engine = _engine()
    try:
        with session_scope(engine) as session:
            produced = produce_report(session, plan_id=plan_id, now=_instant(as_of))
            announcements.announce_report(
                session, report=produced.report, now=_instant(as_of), reads=PlanReads()
            )
    finally:
        engine.dispose()
    create_markdown_artifact(
        key=f"evaluation-report-plan-{plan_id}",
        markdown=produced.markdown,
        description=f"Evaluation report of plan {plan_id}",
    )
    return [str(path) for path in produced.paths]


def _report_as_subflow(session: Any, item: Any, now: datetime, reads: Any) -> None:
    report_flow(plan_id=item.plan_id, as_of=now.isoformat())


@flow(name="perfplan-dispatch", log_prints=False)
def dispatch_flow(as_of: str | None = None, plan_id: int | None = None) -> dict[str, int]:
    """Carry out the outbox rows of committed transitions (reports as their own flow runs)."""
    engine = _engine()
    try:
        report = dispatch.dispatch_pending(
            engine,
            now=_instant(as_of),
            plan_id=plan_id,
            handlers={Effect.EVALUATION_REPORT: _report_as_subflow},
        )
    finally:
        engine.dispose()
    if report.failed:
        get_run_logger().warning("%d outbox row(s) failed and will be retried", len(report.failed))
    return {"done": len(report.done), "failed": len(report.failed)}


@flow(name="perfplan-sweep", log_prints=False)
def sweep_flow(as_of: str | None = None, batch: int = 1000) -> dict[str, Any]:
    """One sweep over every plan: reminders and escalations due at `as_of`."""
    engine = _engine()
    try:
        report = sweep.sweep(engine, as_of=_instant(as_of), batch=batch)
    finally:
        engine.dispose()
    return {
        "reminders": report.reminders,
        "recorded": report.recorded,
        "batches": report.batches,
        "by_kind": report.by_kind,
    }


@flow(name="perfplan-deliver", log_prints=False)
def deliver_flow(as_of: str | None = None) -> dict[str, int]:
    """Send the recorded messages whose turn has come (retries included)."""
    engine = _engine()
    try:
        delivered: dict[str, int] = messages.deliver(engine, now=_instant(as_of))
        return delivered
    finally:
        engine.dispose()
