"""A plan's delivery ledger as people read it: every message about the plan, to whom,
through which channel, its status, and each attempt at sending it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.tables import NOTIFICATION, NOTIFICATION_ATTEMPT, PERSON

N, A = NOTIFICATION, NOTIFICATION_ATTEMPT


def plan_ledger(
    session: Session, *, plan_id: int, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    """The plan's messages, oldest first, each with its attempts."""
    rows = session.execute(
        select(N.c.id, N.c.kind, N.c.role, PERSON.c.key.label("person"), N.c.channel,
               N.c.locale, N.c.subject, N.c.status, N.c.attempts, N.c.created_at,
               N.c.next_attempt_at, N.c.sent_at, N.c.dead_at, N.c.last_error)
        .join(PERSON, PERSON.c.id == N.c.person_id)
        .where(N.c.plan_id == plan_id)
        .order_by(N.c.created_at, N.c.id).limit(limit).offset(offset)
    )  # fmt: skip
    messages = [dict(row._mapping) | {"tries": []} for row in rows]
    by_id = {message["id"]: message for message in messages}
    if by_id:
        tries = session.execute(
            select(A.c.notification_id, A.c.number, A.c.status, A.c.started_at,
                   A.c.finished_at, A.c.error)
            .where(A.c.notification_id.in_(by_id)).order_by(A.c.id)
        )  # fmt: skip
        for attempt in tries:
            by_id[attempt.notification_id]["tries"].append(dict(attempt._mapping))
    return messages
