"""Who may see and do what: a person's relations to a plan, their standing roles,
and the one policy table that the API, the pages and the authorisation tests read.

A plan that a person has no relation to does not exist for them (PlanNotFound,
404), so ids cannot be probed. A relation that allows reading but not acting
(an auditor's) is Forbidden (403). Which *event* a person may fire is still the
definition's business: the engine checks plan roles after this gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    delete,
    exists,
    false,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.sql.base import Immutable
from sqlmodel import Session

from models.tables import DEPARTMENT, ORG_ROLE, PERSON, PLAN, PLAN_ROLE
from people import orgaudit
from people.directory import is_reserved
from people.errors import Forbidden, InvalidInput, PersonNotFound, PlanNotFound, Unauthenticated
from people.roles import roles_held

ORG_ROLES = ("hr", "auditor", "admin")

# A person's relations to a plan, strongest reading right first.
#   participant      holds a role on the plan (employee, manager, hr, mentor, ...)
#   line_manager     the plan's employee reports to them
#   department_head  heads the employee's department
#   hr               standing HR role for the employee's department (or all)
#   auditor          standing auditor role: reads every plan, changes none
RELATIONS = ("participant", "line_manager", "department_head", "hr", "auditor")

# What each relation allows on a plan. `read`: see it, its history, ledger and
# report. `act`: fire events, sign, record progress (the engine then checks
# that the definition gives the person's plan role that right).
PLAN_POLICY: dict[str, frozenset[str]] = {
    "read": frozenset(RELATIONS),
    "act": frozenset({"participant", "line_manager", "department_head", "hr"}),
}

# Organisation-wide rights, by standing role; "anyone" is every signed-in person.
ORG_POLICY: dict[str, frozenset[str]] = {
    "plans.create": frozenset({"hr"}),
    "plans.overdue_dashboard": frozenset({"hr", "auditor"}),
    "audit.search": frozenset({"auditor"}),
    "audit.verify_all": frozenset({"auditor"}),
    "definitions.read": frozenset({"anyone"}),
    "definitions.check": frozenset({"admin"}),
    "definitions.install": frozenset({"admin"}),
    "notifications.dead_letters": frozenset({"hr", "admin"}),
    "notifications.retry": frozenset({"hr", "admin"}),
    "clockwork.status": frozenset({"admin"}),
    "people.import": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Viewer:
    """A signed-in person, with their standing roles (role, department id or None)."""

    id: int
    key: str
    name: str
    locale: str
    org_roles: frozenset[tuple[str, int | None]]

    def has(self, role: str) -> bool:
        return any(held == role for held, _ in self.org_roles)

    @property
    def hr_departments(self) -> set[int | None]:
        return {dept for held, dept in self.org_roles if held == "hr"}

    @property
    def sees_every_plan(self) -> bool:
        return self.has("auditor") or None in self.hr_departments


def operator() -> Viewer:
    """Whoever runs the CLI against the database itself: they hold its credentials, so
    every plan is theirs to read; none is theirs by a relation (they act `--as` someone)."""
    return Viewer(0, "operator", "operator", "en", frozenset({("auditor", None)}))


# Built once: who is asking is read on every request.
_PERSON_BY_ID = select(PERSON.c.id, PERSON.c.key, PERSON.c.name, PERSON.c.locale).where(
    PERSON.c.id == bindparam("person_id")
)
_PERSON_BY_KEY = select(PERSON.c.id, PERSON.c.key, PERSON.c.name, PERSON.c.locale).where(
    PERSON.c.key == bindparam("key")
)
_ORG_ROLES = select(ORG_ROLE.c.role, ORG_ROLE.c.department_id).where(
    ORG_ROLE.c.person_id == bindparam("person_id")
)


def load_viewer(
    session: Session, *, person_id: int | None = None, key: str | None = None
) -> Viewer:
    """The person with their standing roles, by id or key. The automation's keys are
    nobody's: no one is loaded under one (a row from before they were refused included)."""
    if key is not None and is_reserved(key):
        raise InvalidInput(
            f"'{key}' is perfplan's own automation: no one signs in, holds a token, a "
            "password or a standing role as it",
            field="person",
        )
    if person_id is not None:
        row = session.execute(_PERSON_BY_ID, {"person_id": person_id}).first()
    else:
        row = session.execute(_PERSON_BY_KEY, {"key": key}).first()
    if row is None:
        raise PersonNotFound(key or f"#{person_id}")
    if is_reserved(row.key):
        raise Unauthenticated("not signed in, or the session has ended")
    roles = session.execute(_ORG_ROLES, {"person_id": row.id})
    return Viewer(
        row.id, row.key, row.name, row.locale, frozenset((r.role, r.department_id) for r in roles)
    )


def may(viewer: Viewer, right: str) -> bool:
    """Whether the viewer's standing roles give an organisation-wide right."""
    allowed = ORG_POLICY[right]
    return "anyone" in allowed or any(viewer.has(role) for role in allowed)


def require(viewer: Viewer, right: str) -> None:
    if not may(viewer, right):
        needed = " or ".join(sorted(ORG_POLICY[right]))
        raise Forbidden(
            f"{viewer.key} may not {right.replace('.', ': ').replace('_', ' ')}; "
            f"it needs the standing role {needed}",
            plan_id=0,
            event=right,
            actor=viewer.key,
        )


# Who is asking, as bound parameters: a statement is built once per *reach* (below)
# and serves every viewer of that reach; `bound(viewer)` gives the values.
VIEWER_ID = bindparam("viewer_id", type_=Integer)
_HR_DEPARTMENTS = bindparam("hr_departments", type_=Integer, expanding=True)


@dataclass(frozen=True)
class Reach:
    """The part of a viewer that shapes the access clauses: whether they are HR for no
    department, some or all, and whether they audit. Ids are left to bound values."""

    hr: Literal["none", "some", "all"]
    auditor: bool

    @classmethod
    def of(cls, viewer: Viewer) -> Reach:
        departments = viewer.hr_departments
        if None in departments:
            return cls("all", viewer.has("auditor"))
        return cls("some" if departments else "none", viewer.has("auditor"))

    @property
    def sees_every_plan(self) -> bool:
        return self.auditor or self.hr == "all"


def bound(viewer: Viewer) -> dict[str, Any]:
    """The values of the access clauses' parameters for one viewer."""
    departments = sorted(d for d in viewer.hr_departments if d is not None)
    return {"viewer_id": viewer.id, "hr_departments": departments}


def _employee_of_plan() -> Any:
    """The plan's employee row, correlated to PLAN (for EXISTS clauses)."""
    return (
        select(PERSON.c.id)
        .join(PLAN_ROLE, PLAN_ROLE.c.person_id == PERSON.c.id)
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.role == "employee")
        .correlate(PLAN)
    )


def reach_clauses(reach: Reach) -> dict[str, ColumnElement[bool]]:
    """Each relation as a clause on PLAN, with the viewer as bound parameters."""
    participant = exists(
        select(PLAN_ROLE.c.id)
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.person_id == VIEWER_ID)
        .correlate(PLAN)
    )
    line_manager = exists(_employee_of_plan().where(PERSON.c.manager_id == VIEWER_ID))
    headed = select(DEPARTMENT.c.id).where(DEPARTMENT.c.head_id == VIEWER_ID).correlate(None)
    department_head = exists(_employee_of_plan().where(PERSON.c.department_id.in_(headed)))
    hr: ColumnElement[bool] = {
        "all": true(),
        "some": exists(_employee_of_plan().where(PERSON.c.department_id.in_(_HR_DEPARTMENTS))),
        "none": false(),
    }[reach.hr]
    auditor = true() if reach.auditor else false()
    return {
        "participant": participant,
        "line_manager": line_manager,
        "department_head": department_head,
        "hr": hr,
        "auditor": auditor,
    }


def reach_clause(reach: Reach, action: str = "read") -> ColumnElement[bool]:
    """A WHERE clause on PLAN: the plans a viewer of this reach may `action`."""
    if action == "read" and reach.sees_every_plan:
        return true()
    clauses = reach_clauses(reach)
    return or_(*(clauses[name] for name in RELATIONS if name in PLAN_POLICY[action]))


def _valued(clause: ColumnElement[bool], viewer: Viewer) -> ColumnElement[bool]:
    # true() and false() hold no parameters (and cannot be copied)
    return clause if isinstance(clause, Immutable) else clause.params(bound(viewer))


def allowed_clause(viewer: Viewer, action: str = "read") -> ColumnElement[bool]:
    """A WHERE clause on PLAN: the plans the viewer may `action` (for lists and searches)."""
    return _valued(reach_clause(Reach.of(viewer), action), viewer)


@cache
def _relations_statement(reach: Reach) -> Select[Any]:
    # Built once per reach: checking a plan is on every request about one.
    clauses = reach_clauses(reach)
    return select(*(clauses[name].label(name) for name in RELATIONS)).where(
        PLAN.c.id == bindparam("plan_id")
    )


def relations(session: Session, viewer: Viewer, plan_id: int) -> set[str]:
    """The viewer's relations to one plan (empty: the plan is not theirs to see)."""
    statement = _relations_statement(Reach.of(viewer))
    row = session.execute(statement, {**bound(viewer), "plan_id": plan_id}).first()
    if row is None:
        return set()
    return {name for name in RELATIONS if row._mapping[name]}


def check_plan(session: Session, viewer: Viewer, plan_id: int, action: str = "read") -> set[str]:
    """Refuse unless the viewer may `action` the plan: PlanNotFound when they may not even
    see it, Forbidden when they may only read it. Returns their relations."""
    held = relations(session, viewer, plan_id)
    if not held & PLAN_POLICY["read"]:
        raise PlanNotFound(plan_id)
    if not held & PLAN_POLICY[action]:
        raise Forbidden(
            f"{viewer.key} may read plan {plan_id} ({', '.join(sorted(held))}) but not change it",
            plan_id=plan_id,
            event=action,
            actor=viewer.key,
        )
    return held


# Who keeps a copy of a plan's signed copies (docs/domain.md, step 4: employee, department and
# HR each keep one): the plan's people in these roles, and whoever signed that copy.
COPY_KEEPERS = frozenset({"employee", "manager", "hr"})


def check_copy_keeper(
    session: Session, viewer: Viewer, plan_id: int, signers: frozenset[str]
) -> None:
    """Refuse (PlanNotFound, as for a plan not theirs) unless the viewer keeps this copy:
    they hold a keeper's role on the plan, or `signers` (person keys) names them."""
    if viewer.key in signers:
        return
    if not roles_held(session, plan_id=plan_id, person_id=viewer.id) & COPY_KEEPERS:
        raise PlanNotFound(plan_id)


def visible_plan_ids(session: Session, viewer: Viewer) -> list[int]:
    query = select(PLAN.c.id).where(allowed_clause(viewer)).order_by(PLAN.c.id)
    return list(session.execute(query).scalars())


def _department_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    found = session.execute(select(DEPARTMENT.c.id).where(DEPARTMENT.c.name == name)).scalar()
    if found is None:
        known = ", ".join(session.execute(select(DEPARTMENT.c.name)).scalars()) or "none"
        raise InvalidInput(f"no department named '{name}'; known: {known}", field="department")
    return int(found)


def _scope_text(role: str, department: str | None) -> str:
    if role != "hr":
        return role
    return f"hr for {department}" if department else "hr for every department"


def grant(
    session: Session,
    *,
    person: str,
    role: str,
    department: str | None,
    now: datetime,
    by: orgaudit.Acting,
) -> bool:
    """Give a person a standing role (HR: for one department, or all when none is named).
    Returns False when they held it already."""
    if role not in ORG_ROLES:
        raise InvalidInput(
            f"'{role}' is not a standing role; known: {', '.join(ORG_ROLES)}", field="role"
        )
    if department is not None and role != "hr":
        raise InvalidInput("only the hr role is given per department", field="department")
    viewer = load_viewer(session, key=person)
    department_id = _department_id(session, department)
    if (role, department_id) in viewer.org_roles:
        return False
    session.execute(
        insert(ORG_ROLE).values(
            person_id=viewer.id,
            role=role,
            department_id=department_id,
            granted_at=now,
            granted_by=by.actor,
        )
    )
    orgaudit.append(
        session,
        kind="role.granted",
        subject=person,
        by=by,
        now=now,
        detail=_scope_text(role, department),
    )
    return True


def revoke(
    session: Session,
    *,
    person: str,
    role: str,
    department: str | None,
    now: datetime,
    by: orgaudit.Acting,
) -> bool:
    viewer = load_viewer(session, key=person)
    department_id = _department_id(session, department)
    scope = (
        ORG_ROLE.c.department_id.is_(None)
        if department_id is None
        else ORG_ROLE.c.department_id == department_id
    )
    done = session.execute(
        delete(ORG_ROLE).where(ORG_ROLE.c.person_id == viewer.id, ORG_ROLE.c.role == role, scope)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        return False
    orgaudit.append(
        session,
        kind="role.revoked",
        subject=person,
        by=by,
        now=now,
        detail=_scope_text(role, department),
    )
    return True


class StandingRole(NamedTuple):
    person: str  # the person's key
    role: str
    department: str | None  # None: every department (hr), or none applies
    granted_at: datetime
    granted_by: str


def standing_roles(session: Session) -> list[StandingRole]:
    """Every standing role, with the person's key and the department's name."""
    query = (
        select(
            PERSON.c.key.label("person"),
            ORG_ROLE.c.role,
            DEPARTMENT.c.name.label("department"),
            ORG_ROLE.c.granted_at,
            ORG_ROLE.c.granted_by,
        )
        .join(PERSON, PERSON.c.id == ORG_ROLE.c.person_id)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == ORG_ROLE.c.department_id)
        .order_by(PERSON.c.key, ORG_ROLE.c.role)
    )
    return [StandingRole(*row) for row in session.execute(query).tuples()]


def message_scope(viewer: Viewer) -> ColumnElement[bool] | None:
    """Which plans' messages the viewer may handle in the delivery ledger (dead letters,
    retries): admins, who run the channels, and HR for every department see all (None);
    HR for some departments only their plans' — a subject names the employee."""
    if viewer.has("admin") or None in viewer.hr_departments:
        return None
    return allowed_clause(viewer)
