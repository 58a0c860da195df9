"""Carrying out the outbox: the effects a committed transition started.

Plain functions, no Prefect: a CLI transition dispatches its own rows right
after it commits, and the Prefect flows (`workflows.flows`) call the very
same functions. Each row is claimed with a lease, handled in its own
transaction and marked done there, so a crash at any point leaves the row to
be picked up again; every effect is idempotent (notification dedup keys, timer
keys, report files written whole), so handling a row twice changes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from models.db import session_scope
from states import timers
from states.definitions.schema import Effect
from workflows import announcements, messages, outbox
from workflows.announcements import PlanReads
from workflows.outbox import OutboxItem

log = logging.getLogger(__name__)

# Carries out one outbox row in the caller's transaction; `PlanReads` holds the plan
# records read during this dispatch.
Handler = Callable[[Session, OutboxItem, datetime, PlanReads], None]


def _announce(session: Session, item: OutboxItem, now: datetime, reads: PlanReads) -> None:
    announcements.announce(session, item=item, now=now, reads=reads)


def _request_signatures(
    session: Session, item: OutboxItem, now: datetime, reads: PlanReads
) -> None:
    announcements.request_signatures(session, item=item, now=now, reads=reads)


def _schedule_followups(
    session: Session, item: OutboxItem, now: datetime, reads: PlanReads
) -> None:
    timers.schedule(session, plan_id=item.plan_id, now=now)


def _evaluation_report(session: Session, item: OutboxItem, now: datetime, reads: PlanReads) -> None:
    from workflows.report import produce_report

    produced = produce_report(session, plan_id=item.plan_id, now=now)
    announcements.announce_report(session, report=produced.report, now=now, reads=reads)


def _archive_copy(session: Session, item: OutboxItem, now: datetime, reads: PlanReads) -> None:
    from workflows.copies import archive

    archive(session, plan_id=item.plan_id, number=int(item.payload["copy"]), now=now)


HANDLERS: dict[str, Handler] = {
    Effect.ANNOUNCE: _announce,
    Effect.REQUEST_SIGNATURES: _request_signatures,
    Effect.SCHEDULE_FOLLOWUPS: _schedule_followups,
    Effect.EVALUATION_REPORT: _evaluation_report,
    Effect.ARCHIVE_COPY: _archive_copy,
}


@dataclass
class DispatchReport:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.done or self.failed)


def _handle(
    engine: Engine,
    item: OutboxItem,
    now: datetime,
    handlers: dict[str, Handler],
    reads: PlanReads,
) -> str | None:
    """Carry out one row; returns the error, if any (the row then waits for a retry)."""
    try:
        with session_scope(engine) as session:
            handlers[item.flow](session, item, now, reads)
            outbox.complete(session, item.id, now=now)
        return None
    except Exception as error:  # any failure of an effect: record it, retry later
        log.warning("outbox row %s (%s) failed: %s", item.id, item.flow, type(error).__name__)
        with session_scope(engine) as session:
            outbox.fail(session, item, f"{type(error).__name__}: {error}", now=now)
        return str(error)


def dispatch_pending(
    engine: Engine,
    *,
    now: datetime,
    plan_id: int | None = None,
    batch: int = 100,
    handlers: dict[str, Handler] | None = None,
) -> DispatchReport:
    """Claim and carry out every outbox row whose turn has come, in bounded batches."""
    handlers = {**HANDLERS, **(handlers or {})}
    report = DispatchReport()
    reads = PlanReads()
    while True:
        with session_scope(engine) as session:
            items = outbox.claim(session, now=now, limit=batch, plan_id=plan_id)
        for item in items:
            error = _handle(engine, item, now, handlers, reads)
            (report.failed if error else report.done).append(item.key)
        if len(items) < batch:
            return report


def after_commit(engine: Engine, plan_id: int, now: datetime) -> str | None:
    """Carry out a change's outbox rows now that it has committed (the CLI and the web).

    Embedded: in this process, with the plain functions (no Prefect start-up), then
    deliver what they recorded. Served: ask the dispatcher deployment to run now; its
    interval is the safety net. Never raises: the change is stored whatever happens
    here, and what could not be done now (a locked database, a crash) waits in the
    outbox for `perfplan dispatch` or the dispatcher. Returns None when it was all
    done, else why the follow-ups were left to the dispatcher, in one sentence.
    """
    from workflows.settings import WorkflowSettings

    if WorkflowSettings().mode == "served":
        from workflows.runtime import trigger_dispatch

        try:
            trigger_dispatch(plan_id)
        except Exception as error:  # the dispatcher's interval picks the rows up
            log.warning("could not trigger the dispatcher: %s", error)
        return None
    try:
        dispatch_pending(engine, now=now, plan_id=plan_id)
        messages.deliver(engine, now=now)
    except Exception as error:  # committed already: the outbox rows wait for the dispatcher
        log.warning("plan %s: follow-ups left to the dispatcher (%s)", plan_id, _why(error))
        return _why(error)
    return None


def _why(error: Exception) -> str:
    """The first line of what went wrong: a database's own words, not its SQL."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    first = (str(cause).strip().splitlines() or [""])[0]
    return first or type(cause).__name__
