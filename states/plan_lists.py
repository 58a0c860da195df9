"""The plan lists of the pages: "my plans" (every plan the person holds a role on: their
own, and those they take part in as manager, HR partner, mentor or collaborator) and
"my team" (plans of the people they manage), a page at a time, each row with what is
overdue and what is due next.

Each list is one statement: the page of plan ids is chosen first (newest first, by the
primary key, stopping at the page's end), and only those rows are joined to their
employee and get their milestone subqueries — computing them for every plan and then
sorting, as a flat query makes SQLite do, costs ~20 ms per thousand plans.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlmodel import Session

from models.tables import DEPARTMENT, MILESTONE, PERSON, PLAN, PLAN_ROLE
from states import access
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


def _holds_role(viewer: Viewer, role: str | None = None) -> ColumnElement[bool]:
    held = select(PLAN_ROLE.c.id).where(
        PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.person_id == viewer.id
    )
    return exists(held.where(PLAN_ROLE.c.role == role) if role else held)


def _roles_of(viewer: Viewer) -> Any:
    """The viewer's roles on the row's plan, comma-separated (group_concat / string_agg)."""
    return (
        select(func.aggregate_strings(PLAN_ROLE.c.role, ","))
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.person_id == viewer.id)
        .correlate(PLAN).scalar_subquery()
    )  # fmt: skip


def _page(
    session: Session, where: ColumnElement[bool], today: date, limit: int, offset: int,
    *extra: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    employee_of = (
        select(PLAN_ROLE.c.person_id)
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.role == "employee")
        .correlate(PLAN).limit(1).scalar_subquery()
    )  # fmt: skip
    # The employee is found inside the page's subquery, by the plan's index, so that the
    # planner never scans every plan role to join them.
    chosen = (
        select(PLAN.c.id.label("id"), employee_of.label("employee_id")).where(where)
        .order_by(PLAN.c.id.desc()).limit(limit).offset(offset).subquery()
    )  # fmt: skip
    employee = PERSON.alias("employee")
    query = (
        select(PLAN.c.id, PLAN.c.title, PLAN.c.state, PLAN.c.definition_name.label("definition"),
               PLAN.c.definition_version, PLAN.c.period_start, PLAN.c.period_end,
               PLAN.c.updated_at, employee.c.key.label("employee"),
               employee.c.name.label("employee_name"), DEPARTMENT.c.name.label("department"),
               _overdue(today).label("overdue_milestones"), _next_due(today).label("next_due"),
               *extra)
        .select_from(chosen).join(PLAN, PLAN.c.id == chosen.c.id)
        .join(employee, employee.c.id == chosen.c.employee_id)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == employee.c.department_id)
        .order_by(PLAN.c.id.desc())
    )  # fmt: skip
    return [dict(r._mapping) for r in session.execute(query)]


def taking_part(
    session: Session, *, viewer: Viewer, today: date, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Plans where the viewer holds a plan role, newest first; `roles` lists theirs."""
    rows = _page(session, _holds_role(viewer), today, limit, offset,
                 _roles_of(viewer).label("roles"))  # fmt: skip
    for row in rows:
        row["roles"] = sorted(str(row["roles"]).split(",")) if row["roles"] else []
    return rows


def team_plans(
    session: Session, *, viewer: Viewer, today: date, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Plans of the people the viewer manages: as the plan's manager, as the employee's
    line manager, or as head of the employee's department; newest first."""
    relations = access.relation_clauses(viewer)
    managed = or_(_holds_role(viewer, "manager"), relations["line_manager"],
                  relations["department_head"])  # fmt: skip
    return _page(session, managed, today, limit, offset)


def visible_plans(
    session: Session, *, viewer: Viewer, today: date, state: str | None = None,
    department: str | None = None, limit: int = 50, offset: int = 0,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every plan the viewer may read (HR: their departments'; auditors: all), newest
    first, optionally in one state or of one department's employees."""
    where = [access.allowed_clause(viewer)]
    if state:
        where.append(PLAN.c.state == state)
    if department:
        in_department = (
            select(PLAN_ROLE.c.id)
            .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
            .join(DEPARTMENT, DEPARTMENT.c.id == PERSON.c.department_id)
            .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.role == "employee",
                   DEPARTMENT.c.name == department)
            .correlate(PLAN)
        )  # fmt: skip
        where.append(exists(in_department))
    return _page(session, and_(*where), today, limit, offset)


def departments(session: Session) -> list[str]:
    return list(session.execute(select(DEPARTMENT.c.name).order_by(DEPARTMENT.c.name)).scalars())
