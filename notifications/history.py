"""The delivery ledger as people read it: a plan's messages (to whom, through which
channel, status, each attempt), and the dead letters and their retry limited to the
plans a caller may handle (the scope is a WHERE clause on PLAN from the front door)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlmodel import Session

from models.tables import NOTIFICATION, NOTIFICATION_ATTEMPT, PERSON, PLAN
from notifications.errors import NotificationNotFound
from notifications.ledger import history as ledger
from notifications.ledger.rows import DEAD

N, A = NOTIFICATION, NOTIFICATION_ATTEMPT


def plan_ledger(
    session: Session, *, plan_id: int, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    """The plan's messages, oldest first, each with its attempts."""
    rows = session.execute(
        select(
            N.c.id,
            N.c.kind,
            N.c.role,
            PERSON.c.key.label("person"),
            N.c.channel,
            N.c.locale,
            N.c.subject,
            N.c.status,
            N.c.attempts,
            N.c.created_at,
            N.c.next_attempt_at,
            N.c.sent_at,
            N.c.dead_at,
            N.c.last_error,
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
            select(
                A.c.notification_id,
                A.c.number,
                A.c.status,
                A.c.started_at,
                A.c.finished_at,
                A.c.error,
            )
            .where(A.c.notification_id.in_(by_id))
            .order_by(A.c.id)
        )
        for attempt in tries:
            by_id[attempt.notification_id]["tries"].append(dict(attempt._mapping))
    return messages


def _in_scope(scope: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    """Messages of the plans `scope` (a WHERE clause on PLAN) allows; None: every message."""
    if scope is None:
        return []
    return [N.c.plan_id.in_(select(PLAN.c.id).where(scope))]


def dead_letters(
    session: Session, *, scope: ColumnElement[bool] | None, limit: int = 200
) -> list[dict[str, Any]]:
    """The dead letters of the plans in scope, newest first."""
    rows = session.execute(
        select(
            N.c.id,
            N.c.kind,
            N.c.plan_id,
            N.c.role,
            N.c.channel,
            N.c.locale,
            N.c.subject,
            N.c.attempts,
            N.c.created_at,
            N.c.dead_at,
            N.c.last_error,
        )
        .where(N.c.status == DEAD, *_in_scope(scope))
        .order_by(N.c.dead_at.desc(), N.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def retry(
    session: Session,
    *,
    notification_id: int | None,
    scope: ColumnElement[bool] | None,
    now: datetime,
) -> int:
    """Queue one dead letter again, or every one in scope; a message outside the scope
    does not exist for the caller."""
    if notification_id is not None:
        visible = session.execute(
            select(N.c.id).where(N.c.id == notification_id, *_in_scope(scope))
        ).first()
        if visible is None:
            raise NotificationNotFound(notification_id)
        return ledger.retry(session, notification_id=notification_id, now=now)
    if scope is None:
        return ledger.retry(session, notification_id=None, now=now)
    ids = session.execute(select(N.c.id).where(N.c.status == DEAD, *_in_scope(scope)))
    return sum(ledger.retry(session, notification_id=i, now=now) for i in ids.scalars())
