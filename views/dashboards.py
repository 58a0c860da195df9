"""HR's overdue dashboard: every milestone past due and not done on a plan whose
milestones run (in progress, being adjusted...) that the viewer may see, most late first."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import and_, select
from sqlmodel import Session

from models.tables import DEPARTMENT, MILESTONE, PERSON, PLAN, PLAN_ROLE
from people import access
from people.access import Viewer
from views.lists import milestones_running_clause


class OverdueMilestone(NamedTuple):
    plan_id: int
    title: str
    state: str
    employee: str
    employee_name: str
    department: str | None
    milestone: str
    milestone_title: str
    due: date
    days_late: int


_EMPLOYEE = PERSON.alias("employee")


def overdue_milestones(
    session: Session, *, viewer: Viewer, today: date, limit: int = 500
) -> list[OverdueMilestone]:
    """Every milestone past due and not done on a plan the viewer may see, in a state where
    its milestones run (never a drafted or finished one), most late first (HR's dashboard)."""
    query = (
        select(
            *PLAN.c["id", "title", "state"],
            *_EMPLOYEE.c["key", "name"],
            DEPARTMENT.c.name,
            *MILESTONE.c["key", "title", "due"],
        )
        .join(PLAN, PLAN.c.id == MILESTONE.c.plan_id)
        .join(PLAN_ROLE, and_(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.role == "employee"))
        .join(_EMPLOYEE, _EMPLOYEE.c.id == PLAN_ROLE.c.person_id)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == _EMPLOYEE.c.department_id)
        .where(
            MILESTONE.c.status != "done",
            MILESTONE.c.due < today,
            access.allowed_clause(viewer),
            milestones_running_clause(session),
        )
        .order_by(MILESTONE.c.due, PLAN.c.id)
        .limit(limit)
    )
    return [
        OverdueMilestone._make((*row, (today - row[-1]).days))
        for row in session.execute(query).tuples()
    ]
