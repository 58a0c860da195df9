"""The auditor's search: audit records of the plans the viewer may see, oldest first,
filtered by plan, actor, event and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from models.tables import AUDIT, PLAN
from people import access
from people.access import Viewer
from views.record import AuditLine


@dataclass(frozen=True)
class AuditQuery:
    plan_id: int | None = None
    actor: str | None = None
    event: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search_audit(
    session: Session, *, viewer: Viewer, query: AuditQuery, limit: int = 500, offset: int = 0
) -> list[AuditLine]:
    """Audit records of the plans the viewer may see, oldest first, filtered."""
    statement = (
        select(AUDIT)
        .join(PLAN, PLAN.c.id == AUDIT.c.plan_id)
        .where(access.allowed_clause(viewer))
        .order_by(AUDIT.c.at, AUDIT.c.plan_id, AUDIT.c.seq)
        .limit(limit)
        .offset(offset)
    )
    if query.plan_id is not None:
        statement = statement.where(AUDIT.c.plan_id == query.plan_id)
    if query.actor:
        statement = statement.where(AUDIT.c.actor == query.actor)
    if query.event:
        statement = statement.where(AUDIT.c.event == query.event)
    if query.since:
        statement = statement.where(AUDIT.c.at >= query.since)
    if query.until:
        statement = statement.where(AUDIT.c.at < query.until)
    return [AuditLine(*row) for row in session.execute(statement).tuples()]
