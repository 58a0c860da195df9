"""The ledger as people read it: a plan's messages (to whom, through which channel,
status, each attempt), one message's attempts, the counts by status, and the dead
letters and their retry, limited to the plans a caller may handle (the scope is a
WHERE clause on PLAN from the front door; None: every plan)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from notifications.errors import NotificationNotFound, NotRetryable
from notifications.ledger.rows import DEAD, QUEUED, A, N

log = logging.getLogger("perfplan.notifications")


def dead_letters(session: Session, *, limit: int = 200) -> list[dict[str, Any]]:
    """The messages that will not be sent without help, newest first."""
    rows = session.execute(
        select(
            N.c.id,
            N.c.kind,
            N.c.plan_id,
            N.c.person_id,
            N.c.role,
            N.c.channel,
            N.c.locale,
            N.c.subject,
            N.c.attempts,
            N.c.created_at,
            N.c.dead_at,
            N.c.last_error,
        )
        .where(N.c.status == DEAD)
        .order_by(N.c.dead_at.desc(), N.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def retry(session: Session, *, notification_id: int | None, now: datetime) -> int:
    """Queue one dead letter again (or all of them, with None), with a fresh set of attempts.

    Its earlier attempts stay in the ledger.
    """
    where = [N.c.status == DEAD]
    if notification_id is not None:
        status = session.execute(select(N.c.status).where(N.c.id == notification_id)).scalar()
        if status is None:
            raise NotificationNotFound(notification_id)
        if status != DEAD:
            raise NotRetryable(notification_id, status)
        where.append(N.c.id == notification_id)
    result = session.connection().execute(
        update(N)
        .where(*where)
        .values(
            status=QUEUED,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
            claimed_by="",
            dead_at=None,
        )
    )
    log.info("%d dead letter(s) queued again", result.rowcount)
    return int(result.rowcount)


def attempts_of(session: Session, notification_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(A.c.number, A.c.status, A.c.started_at, A.c.finished_at, A.c.error)
        .where(A.c.notification_id == notification_id)
        .order_by(A.c.id)
    )
    return [dict(row._mapping) for row in rows]


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(N.c.status, func.count()).group_by(N.c.status))
    return {str(status): int(count) for status, count in rows}
