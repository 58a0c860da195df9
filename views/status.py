"""Whether the clockwork is healthy: how many effects wait in the outbox and how old the
oldest is, the messages queued, retrying and dead (by channel), the follow-ups due, and
when each kind of run (sweep, delivery, verification) last ran and what it found — for
`perfplan status`, the admin page and `/metrics`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from models.tables import CLOCKWORK_RUN, FOLLOWUP, NOTIFICATION, OUTBOX

RUN_KINDS = ("sweep", "deliver", "verify")


@dataclass(frozen=True)
class Queue:
    """What waits: how many, and since when the oldest (None: nothing waits)."""

    waiting: int
    oldest: datetime | None

    def age_seconds(self, now: datetime) -> float:
        return (now - self.oldest).total_seconds() if self.oldest else 0.0


@dataclass(frozen=True)
class LastRun:
    kind: str
    finished_at: datetime
    as_of: datetime
    ok: bool
    seconds: float
    figures: dict[str, Any]


@dataclass(frozen=True)
class ClockworkStatus:
    as_of: datetime
    effects: Queue  # outbox rows not carried out yet
    effects_failed: int  # outbox rows that gave up
    messages: Queue  # queued messages
    retrying: int  # queued messages that failed at least once
    dead_by_channel: dict[str, int]
    timers_due: int  # follow-ups due and not swept yet
    next_timer: datetime | None
    last: dict[str, LastRun] = field(default_factory=dict)  # kind -> its last run

    @property
    def dead(self) -> int:
        return sum(self.dead_by_channel.values())


def _queue(session: Session, table: Any, *where: Any) -> Queue:
    row = session.execute(select(func.count(), func.min(table.c.created_at)).where(*where)).one()
    return Queue(int(row[0]), row[1])


def _last_runs(session: Session) -> dict[str, LastRun]:
    latest = (
        select(CLOCKWORK_RUN.c.kind, func.max(CLOCKWORK_RUN.c.id).label("id"))
        .group_by(CLOCKWORK_RUN.c.kind)
        .subquery()
    )
    rows = session.execute(select(CLOCKWORK_RUN).join(latest, latest.c.id == CLOCKWORK_RUN.c.id))
    return {
        row.kind: LastRun(
            row.kind,
            row.finished_at,
            row.as_of,
            row.ok,
            (row.finished_at - row.started_at).total_seconds(),
            dict(row.figures),
        )
        for row in rows
    }


def clockwork_status(session: Session, *, now: datetime) -> ClockworkStatus:
    """The clockwork as it stands at `now`, in a few indexed queries."""
    dead = session.execute(
        select(NOTIFICATION.c.channel, func.count())
        .where(NOTIFICATION.c.status == "dead")
        .group_by(NOTIFICATION.c.channel)
        .order_by(NOTIFICATION.c.channel)
    ).tuples()
    timers = session.execute(
        select(func.count(), func.min(FOLLOWUP.c.due_at)).where(FOLLOWUP.c.status == "pending")
    ).one()
    due = session.execute(
        select(func.count()).where(FOLLOWUP.c.status == "pending", FOLLOWUP.c.due_at <= now)
    ).scalar_one()
    queued = NOTIFICATION.c.status == "queued"
    return ClockworkStatus(
        as_of=now,
        effects=_queue(session, OUTBOX, OUTBOX.c.status.in_(("pending", "claimed"))),
        effects_failed=int(
            session.execute(select(func.count()).where(OUTBOX.c.status == "failed")).scalar_one()
        ),
        messages=_queue(session, NOTIFICATION, queued),
        retrying=int(
            session.execute(
                select(func.count()).where(queued, NOTIFICATION.c.attempts > 0)
            ).scalar_one()
        ),
        dead_by_channel={channel: int(count) for channel, count in dead},
        timers_due=int(due),
        next_timer=timers[1] if timers[0] else None,
        last=_last_runs(session),
    )
