"""The "my plans" list: the plans a person holds a role on (their own, and those they
take part in as manager, HR partner, mentor or collaborator), a page at a time, each
with what is overdue and what is due next — one query for the page, one for the roles.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlmodel import Session

from models.tables import DEPARTMENT, MILESTONE, PERSON, PLAN, PLAN_ROLE
from states.access import Viewer


def _overdue(today: date) -> Any:
    return (
        select(func.count(MILESTONE.c.id))
        .where(MILESTONE.c.plan_id == PLAN.c.id, MILESTONE.c.status != "done",
               MILESTONE.c.due < today)
        .correlate(PLAN).scalar_subquery()
    )  # fmt: skip


def _next_due(today: date) -> Any:
    return (
        select(func.min(MILESTONE.c.due))
        .where(MILESTONE.c.plan_id == PLAN.c.id, MILESTONE.c.status != "done",
               MILESTONE.c.due >= today)
        .correlate(PLAN).scalar_subquery()
    )  # fmt: skip


def taking_part(
    session: Session, *, viewer: Viewer, today: date, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Plans where the viewer holds a plan role, newest first; `roles` lists theirs."""
    employee = PERSON.alias("employee")
    holds_role = exists(
        select(PLAN_ROLE.c.id)
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.person_id == viewer.id)
        .correlate(PLAN)
    )
    employee_role = PLAN_ROLE.alias("employee_role")
    query = (
        select(PLAN.c.id, PLAN.c.title, PLAN.c.state, PLAN.c.definition_name.label("definition"),
               PLAN.c.definition_version,
               PLAN.c.period_start, PLAN.c.period_end, PLAN.c.updated_at,
               employee.c.key.label("employee"), employee.c.name.label("employee_name"),
               DEPARTMENT.c.name.label("department"),
               _overdue(today).label("overdue_milestones"), _next_due(today).label("next_due"))
        .join(employee_role, and_(employee_role.c.plan_id == PLAN.c.id,
                                  employee_role.c.role == "employee"))
        .join(employee, employee.c.id == employee_role.c.person_id)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == employee.c.department_id)
        .where(holds_role).order_by(PLAN.c.id.desc()).limit(limit).offset(offset)
    )  # fmt: skip
    rows = [dict(r._mapping) for r in session.execute(query)]
    roles = session.execute(
        select(PLAN_ROLE.c.plan_id, PLAN_ROLE.c.role).where(
            PLAN_ROLE.c.person_id == viewer.id, PLAN_ROLE.c.plan_id.in_([r["id"] for r in rows])
        ).order_by(PLAN_ROLE.c.id)
    ).all()  # fmt: skip
    for row in rows:
        row["roles"] = [r.role for r in roles if r.plan_id == row["id"]]
    return rows
