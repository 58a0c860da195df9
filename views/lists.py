"""Plan lists and searches: the plans a person may see, filtered, newest first, each with
how many of its milestones are late, the next one due, and the viewer's own roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    not_,
    or_,
    select,
)
from sqlmodel import Session

from models.tables import (
    DEPARTMENT,
    MILESTONE,
    PERSON,
    PLAN,
    PLAN_ROLE,
)
from people import access
from people.access import Viewer
from states.definitions import catalog
from states.errors import InvalidInput
from states.timers import milestone_states

# What a signed-in person sees -------------------------------------------------


@dataclass(frozen=True)
class PlanFilter:
    """The filters of a plan list; None means any."""

    state: str | None = None
    department: str | None = None
    definition: str | None = None
    overdue: bool | None = None
    # Plans whose period overlaps [period_from, period_to].
    period_from: date | None = None
    period_to: date | None = None
    # "own": the viewer is the plan's employee; "participant": the viewer holds any role
    # on the plan; "team": the viewer manages the employee (plan role manager, line
    # manager or department head).
    relation: str | None = None


RELATION_FILTERS = ("own", "participant", "team")


class PlanSummary(NamedTuple):
    """One plan of a list: what the list shows, and the viewer's own roles on it."""

    id: int
    title: str
    state: str
    version: int
    definition: str
    definition_version: int
    definition_hash: str
    period_start: date
    period_end: date
    updated_at: datetime
    employee: str
    employee_name: str
    department: str | None
    overdue_milestones: int
    next_due: date | None
    roles: tuple[str, ...]


# Each definition version plans are bound to, with the states in which its milestones run.
Timed = tuple[tuple[str, tuple[str, ...]], ...]


def _timed_states(session: Session) -> Timed:
    """Each definition version plans are bound to, with the states whose milestones run
    (`states.timers.milestone_states`)."""
    hashes = session.execute(select(PLAN.c.definition_hash).distinct()).scalars()
    return tuple(sorted((h, milestone_states(catalog.by_hash(session, h))) for h in hashes))


def _timed_clause(timed: Timed) -> ColumnElement[bool]:
    """True for plans in a state where their milestones run (not drafted, not waiting to
    start, not finished): only there can a milestone be late."""
    running = [
        and_(PLAN.c.definition_hash == h, PLAN.c.state.in_(states)) for h, states in timed if states
    ]
    return or_(*running) if running else false()


def milestones_running_clause(session: Session) -> ColumnElement[bool]:
    """True for plans whose milestones run in the state they are in."""
    return _timed_clause(_timed_states(session))


# The list's statements are built once per shape (below) and run with these values.
_TODAY = bindparam("today", type_=MILESTONE.c.due.type)


def _overdue_count(timed: Timed) -> Any:
    """The plan's milestones past due and not done, counted where its milestones run."""
    return (
        select(func.count(MILESTONE.c.id))
        .where(
            MILESTONE.c.plan_id == PLAN.c.id,
            MILESTONE.c.status != "done",
            MILESTONE.c.due < _TODAY,
            _timed_clause(timed),
        )
        .correlate(PLAN)
        .scalar_subquery()
    )


def _next_due() -> Any:
    return (
        select(func.min(MILESTONE.c.due))
        .where(
            MILESTONE.c.plan_id == PLAN.c.id,
            MILESTONE.c.status != "done",
            MILESTONE.c.due >= _TODAY,
        )
        .correlate(PLAN)
        .scalar_subquery()
    )


def _holds_role(role: str | None = None) -> ColumnElement[bool]:
    held = select(PLAN_ROLE.c.id).where(
        PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.person_id == access.VIEWER_ID
    )
    return exists((held.where(PLAN_ROLE.c.role == role) if role else held).correlate(PLAN))


def _roles_of() -> Any:
    """The viewer's roles on the row's plan, comma-separated (group_concat / string_agg)."""
    return (
        select(func.aggregate_strings(PLAN_ROLE.c.role, ","))
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.person_id == access.VIEWER_ID)
        .correlate(PLAN)
        .scalar_subquery()
    )


def _relation_filter(reach: access.Reach, relation: str) -> ColumnElement[bool]:
    if relation == "own":
        return _holds_role("employee")
    if relation == "participant":
        return _holds_role()
    clauses = access.reach_clauses(reach)
    return or_(_holds_role("manager"), clauses["line_manager"], clauses["department_head"])


@dataclass(frozen=True)
class _ListShape:
    """What a plan list's statement looks like: the viewer's reach and which filters are
    set (their values are bound), and where each definition's milestones run."""

    reach: access.Reach
    given: frozenset[str]
    overdue: bool | None
    relation: str | None
    timed: Timed = ()


_BOUND_FILTERS = ("state", "definition", "department", "period_from", "period_to")


def _shape(session: Session, viewer: Viewer, filters: PlanFilter) -> _ListShape:
    if filters.relation and filters.relation not in RELATION_FILTERS:
        raise InvalidInput(
            f"'{filters.relation}' is not a relation; use {', '.join(RELATION_FILTERS)}",
            field="relation",
        )
    given = frozenset(n for n in _BOUND_FILTERS if getattr(filters, n))
    return _ListShape(
        access.Reach.of(viewer),
        given,
        filters.overdue,
        filters.relation or None,
        _timed_states(session),
    )


def search_plans(
    session: Session,
    *,
    viewer: Viewer,
    today: date,
    filters: PlanFilter = PlanFilter(),
    limit: int = 100,
    offset: int = 0,
) -> list[PlanSummary]:
    """The plans the viewer may see, filtered, newest first, with what is overdue, what is
    due next, and the viewer's own roles on each (`roles`).

    One statement, built once per shape (`_ListShape`) and run with bound values:
    building it costs more than SQLite takes to run it.
    """
    statement = _search_statement(_shape(session, viewer, filters))
    values = {name: getattr(filters, name) for name in _BOUND_FILTERS if getattr(filters, name)}
    values |= access.bound(viewer) | {"today": today, "limit": limit, "offset": offset}
    return [
        PlanSummary._make((*row[:-1], tuple(sorted(row[-1].split(","))) if row[-1] else ()))
        for row in session.execute(statement, values).tuples()
    ]


@lru_cache(maxsize=256)
def _search_statement(shape: _ListShape) -> Select[Any]:
    """The page of plan ids is chosen first (by the primary key, stopping at the page's
    end, the employee found by the plan's index), and only its rows are joined to their
    employee and get the milestone subqueries. Computing those for every plan and then
    sorting, as a flat query makes SQLite do, costs ~20 ms per thousand plans."""
    where = and_(access.reach_clause(shape.reach), *_filter_clauses(shape))
    employee_of = (
        select(PLAN_ROLE.c.person_id)
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.role == "employee")
        .correlate(PLAN)
        .limit(1)
        .scalar_subquery()
    )
    chosen = (
        select(PLAN.c.id.label("id"), employee_of.label("employee_id"))
        .where(where)
        .order_by(PLAN.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery()
    )
    employee = PERSON.alias("employee")
    return (
        select(
            PLAN.c.id,
            PLAN.c.title,
            PLAN.c.state,
            PLAN.c.version,
            PLAN.c.definition_name.label("definition"),
            PLAN.c.definition_version,
            PLAN.c.definition_hash,
            PLAN.c.period_start,
            PLAN.c.period_end,
            PLAN.c.updated_at,
            employee.c.key.label("employee"),
            employee.c.name.label("employee_name"),
            DEPARTMENT.c.name.label("department"),
            _overdue_count(shape.timed).label("overdue_milestones"),
            _next_due().label("next_due"),
            _roles_of().label("roles"),
        )
        .select_from(chosen)
        .join(PLAN, PLAN.c.id == chosen.c.id)
        .join(employee, employee.c.id == chosen.c.employee_id)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == employee.c.department_id)
        .order_by(PLAN.c.id.desc())
    )


def _in_department() -> ColumnElement[bool]:
    return exists(
        select(PLAN_ROLE.c.id)
        .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == PERSON.c.department_id)
        .where(
            PLAN_ROLE.c.plan_id == PLAN.c.id,
            PLAN_ROLE.c.role == "employee",
            DEPARTMENT.c.name == bindparam("department"),
        )
        .correlate(PLAN)
    )


def _filter_clauses(shape: _ListShape) -> list[ColumnElement[bool]]:
    given = shape.given
    clauses: list[ColumnElement[bool]] = []
    if "state" in given:
        clauses.append(PLAN.c.state == bindparam("state"))
    if "definition" in given:
        clauses.append(PLAN.c.definition_name == bindparam("definition"))
    if "department" in given:
        clauses.append(_in_department())
    if "period_from" in given:
        clauses.append(PLAN.c.period_end >= bindparam("period_from", type_=_TODAY.type))
    if "period_to" in given:
        clauses.append(PLAN.c.period_start <= bindparam("period_to", type_=_TODAY.type))
    if shape.overdue is not None:
        late = _overdue_count(shape.timed) > 0
        clauses.append(late if shape.overdue else not_(late))
    if shape.relation:
        clauses.append(_relation_filter(shape.reach, shape.relation))
    return clauses
