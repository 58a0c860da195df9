"""The follow-up sweep as a plain function: claim due timers in bounded
batches and record their reminders in the delivery ledger, one transaction
per batch. Run by the `sweep` flow (on a schedule when served) and by
`perfplan sweep`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select

from models.db import session_scope
from models.tables import FOLLOWUP
from states import timers as followups
from workflows import messages


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


def sweep(engine: Engine, *, as_of: datetime, batch: int = 1000) -> SweepReport:
    """Send every reminder and escalation due at `as_of`; safe to run twice or at once."""
    report = SweepReport()
    while True:
        with session_scope(engine) as session:
            swept = followups.sweep(session, as_of=as_of, limit=batch)
            reminders = swept.reminders
            recorded = messages.record_reminders(session, swept, now=as_of)
        report.batches += 1
        report.reminders += len(reminders)
        report.recorded += recorded
        for reminder in reminders:
            report.by_kind[reminder.kind] = report.by_kind.get(reminder.kind, 0) + 1
        if swept.claimed < batch:
            return report
