"""Claiming outbox rows for dispatch, safely with several dispatchers at once.

A row is claimed with a lease: `claimed_until` in the future. Another
dispatcher skips it until the lease runs out, so a dispatcher killed after
claiming (before finishing) delays its rows by one lease, never loses them.
On PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED; on
SQLite the claiming UPDATE runs under the database's single write lock.
Each effect is idempotent (its row's unique `key`), so a row dispatched twice
after an expired lease changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import Session

from models.tables import OUTBOX

DEFAULT_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    plan_id: int
    flow: str
    payload: dict[str, Any]
    attempts: int


def _claimable(now: datetime) -> Any:
    return (OUTBOX.c.status.in_(("pending", "claimed"))) & or_(
        OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now
    )


def claim(
    session: Session,
    *,
    now: datetime,
    limit: int = 100,
    lease: timedelta = DEFAULT_LEASE,
    flows: tuple[str, ...] | None = None,
    plan_id: int | None = None,
) -> list[OutboxItem]:
    """Claim up to `limit` rows whose turn has come, oldest first. Commit to make it stick."""
    query = select(OUTBOX.c.id).where(_claimable(now)).order_by(OUTBOX.c.id).limit(limit)
    if flows is not None:
        query = query.where(OUTBOX.c.flow.in_(flows))
    if plan_id is not None:
        query = query.where(OUTBOX.c.plan_id == plan_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.execute(query).scalars())
    if not ids:
        return []
    # Re-check the lease in the UPDATE itself: on SQLite two claimers may have
    # read the same candidates; only one UPDATE can match each row.
    rows = session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(ids), _claimable(now))
        .values(status="claimed", claimed_until=now + lease, attempts=OUTBOX.c.attempts + 1)
        .returning(
            OUTBOX.c.id,
            OUTBOX.c.key,
            OUTBOX.c.plan_id,
            OUTBOX.c.flow,
            OUTBOX.c.payload,
            OUTBOX.c.attempts,
        )
    ).all()
    return sorted((OutboxItem(*row) for row in rows), key=lambda item: item.id)


def complete(session: Session, item_id: int, *, now: datetime) -> None:
    session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == item_id)
        .values(status="done", done_at=now, claimed_until=None, last_error="")
    )


def fail(session: Session, item: OutboxItem, error: str, *, now: datetime) -> None:
    """Give the row back with a growing delay; after MAX_ATTEMPTS it stays failed."""
    status = "failed" if item.attempts >= MAX_ATTEMPTS else "pending"
    retry_at = now + timedelta(seconds=min(3600, 2**item.attempts * 5))
    session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == item.id)
        .values(status=status, claimed_until=retry_at, last_error=error[:2000])
    )


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return int(
        session.execute(
            select(func.count())
            .select_from(OUTBOX)
            .where(OUTBOX.c.status.in_(("pending", "claimed")))
        ).scalar_one()
    )
