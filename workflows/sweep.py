"""The follow-up sweep: claim the timers whose time has come in bounded batches, let the
rules settle them (`states.timers.settle`: which still apply), and record their
reminders in the delivery ledger, one transaction per batch. Run by the `sweep` flow
(on a schedule when served) and by `perfplan sweep`.

Claiming is safe with several sweeps at once: one UPDATE takes the due timers that are
still pending (on PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED), so
no two sweeps take the same timer, and it marks them sent in the very transaction that
records their messages: a sweep that fails rolls both back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select, update
from sqlmodel import Session

from models import clock
from models.db import session_scope
from models.tables import FOLLOWUP
from states import timers
from states.timers import DueTimer, Swept
from workflows import reminders
from workflows.runs import record_run


@dataclass
class SweepReport:
    batches: int = 0
    reminders: int = 0
    recorded: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def due_count(engine: Engine, *, as_of: datetime) -> int:
    """How many timers are due: one indexed query, cheap enough to ask before
    starting any machinery."""
    with session_scope(engine) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(FOLLOWUP)
                .where(FOLLOWUP.c.status == "pending", FOLLOWUP.c.due_at <= as_of)
            ).scalar_one()
        )


def claim_due(session: Session, *, as_of: datetime, limit: int) -> list[DueTimer]:
    """Take up to `limit` pending timers due at `as_of`, oldest first, marked sent."""
    due = (
        select(FOLLOWUP.c.id)
        .where(FOLLOWUP.c.status == "pending", FOLLOWUP.c.due_at <= as_of)
        .order_by(FOLLOWUP.c.due_at, FOLLOWUP.c.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # Only rows still pending are ours: a concurrent sweep may have taken some.
    # Tuples, not Row objects: a Row's attribute costs a lookup, and each is read often.
    claimed = session.execute(
        update(FOLLOWUP)
        .where(FOLLOWUP.c.id.in_(due.scalar_subquery()), FOLLOWUP.c.status == "pending")
        .values(status="sent", fired_at=as_of)
        .returning(*(FOLLOWUP.c[name] for name in DueTimer._fields))
    )
    return sorted((DueTimer(*row) for row in claimed), key=lambda timer: timer.id)


def sweep_batch(session: Session, *, as_of: datetime, limit: int = 1000) -> Swept:
    """Claim one bounded batch and settle it, in the caller's transaction."""
    return timers.settle(session, timers=claim_due(session, as_of=as_of, limit=limit), as_of=as_of)


def sweep(engine: Engine, *, as_of: datetime, batch: int = 1000) -> SweepReport:
    """Send every reminder and escalation due at `as_of`; safe to run twice or at once.
    The run and its figures are recorded (`workflows.runs`)."""
    started = clock.now()
    report = _sweep(engine, as_of=as_of, batch=batch)
    figures = {
        "batches": report.batches,
        "reminders": report.reminders,
        "recorded": report.recorded,
        "by_kind": report.by_kind,
    }
    record_run(engine, kind="sweep", started_at=started, as_of=as_of, figures=figures)
    return report


def _sweep(engine: Engine, *, as_of: datetime, batch: int) -> SweepReport:
    report = SweepReport()
    while True:
        with session_scope(engine) as session:
            swept = sweep_batch(session, as_of=as_of, limit=batch)
            recorded = reminders.record(session, swept, now=as_of)
        report.batches += 1
        report.reminders += len(swept.reminders)
        report.recorded += recorded
        for reminder in swept.reminders:
            report.by_kind[reminder.kind] = report.by_kind.get(reminder.kind, 0) + 1
        if swept.claimed < batch:
            return report
