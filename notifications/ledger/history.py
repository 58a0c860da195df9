"""The ledger as people read it: a plan's messages (to whom, through which channel,
status, each attempt), one message's attempts, the counts by status, and the dead
letters and their retry, limited to the plans a caller may handle (the scope is a
WHERE clause on PLAN from the front door; None: every plan)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlmodel import Session

from models.tables import PERSON, PLAN
from notifications.errors import NotificationNotFound, NotRetryable
from notifications.ledger.rows import DEAD, QUEUED, A, N

log = logging.getLogger("perfplan.notifications")

# A message as people read it, in this order (`perfplan notify failed --json` keeps it).
_MESSAGE = (
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
# And each attempt to send it.
_ATTEMPT = (A.c.number, A.c.status, A.c.started_at, A.c.finished_at, A.c.error)


def plan_ledger(
    session: Session, *, plan_id: int, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    """The plan's messages, oldest first, each with its attempts."""
    rows = session.execute(
        select(
            *_MESSAGE, PERSON.c.key.label("person"), N.c.status, N.c.next_attempt_at, N.c.sent_at
        )
        .join(PERSON, PERSON.c.id == N.c.person_id)
        .where(N.c.plan_id == plan_id)
        .order_by(N.c.created_at, N.c.id)
        .limit(limit)
        .offset(offset)
    )
    messages = [dict(row._mapping) | {"tries": []} for row in rows]
    by_id = {message["id"]: message for message in messages}
    if by_id:
        tries = session.execute(
            select(A.c.notification_id, *_ATTEMPT)
            .where(A.c.notification_id.in_(by_id))
            .order_by(A.c.id)
        )
        for attempt in tries:
            by_id[attempt.notification_id]["tries"].append(dict(attempt._mapping))
    return messages


def attempts_of(session: Session, notification_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(*_ATTEMPT).where(A.c.notification_id == notification_id).order_by(A.c.id)
    )
    return [dict(row._mapping) for row in rows]


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(N.c.status, func.count()).group_by(N.c.status))
    return {str(status): int(count) for status, count in rows}


def dead_letters(
    session: Session, *, scope: ColumnElement[bool] | None, limit: int = 200
) -> list[dict[str, Any]]:
    """The messages of the plans in scope that will not be sent without help, newest first."""
    rows = session.execute(
        select(*_MESSAGE)
        .where(N.c.status == DEAD, *_in_scope(scope))
        .order_by(N.c.dead_at.desc(), N.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def retry(
    session: Session,
    *,
    notification_id: int | None,
    now: datetime,
    scope: ColumnElement[bool] | None,
) -> int:
    """Queue one dead letter again (or every one in scope, with None), with a fresh set
    of attempts; its earlier attempts stay in the ledger. A message outside the scope
    does not exist for the caller."""
    where = [N.c.status == DEAD, *_in_scope(scope)]
    if notification_id is not None:
        _check_retryable(session, notification_id, scope)
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


def _check_retryable(
    session: Session, notification_id: int, scope: ColumnElement[bool] | None
) -> None:
    status = session.execute(
        select(N.c.status).where(N.c.id == notification_id, *_in_scope(scope))
    ).scalar()
    if status is None:
        raise NotificationNotFound(notification_id)
    if status != DEAD:
        raise NotRetryable(notification_id, status)


def _in_scope(scope: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    """Messages of the plans `scope` (a WHERE clause on PLAN) allows; None: every message."""
    if scope is None:
        return []
    return [N.c.plan_id.in_(select(PLAN.c.id).where(scope))]
