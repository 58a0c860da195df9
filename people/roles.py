"""Who holds which part in a plan: the people a plan names, by role, in the order named,
and the head of its employee's department (a part no plan document names: the
organisation decides it). Every room asks here — the engine (may this person sign as
department head?), the follow-ups (whom to remind), the messages (whom to tell, whose
name to say), the plan's record and its report.

One statement per call, for one plan or a batch of them: the named parts, the employee's
with the head of their department.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, and_, bindparam, select
from sqlmodel import Session

from models.tables import DEPARTMENT, ORG_ROLE, PERSON, PLAN_ROLE

# The part the organisation gives: the head of the employee's department.
DEPARTMENT_HEAD = "department_head"


class Holder(NamedTuple):
    """A person in one part of a plan. `derived`: held through the organisation (the
    department head), not named in the plan."""

    role: str
    id: int
    key: str
    name: str
    email: str
    locale: str
    department: str  # "" when the person belongs to none
    derived: bool = False


@dataclass(frozen=True, slots=True)
class PlanPeople:
    """Everyone who holds a part in one plan: `named` in the order the plan names them,
    and the department head of its employee (None when the department has none)."""

    named: tuple[Holder, ...] = ()
    department_head: Holder | None = None
    _by_role: Mapping[str, tuple[Holder, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, named: Iterable[Holder], head: Holder | None) -> PlanPeople:
        held = tuple(named)
        by_role: dict[str, list[Holder]] = {}
        for holder in held:
            by_role.setdefault(holder.role, []).append(holder)
        if head is not None and DEPARTMENT_HEAD not in by_role:
            by_role[DEPARTMENT_HEAD] = [head]
        return cls(held, head, {role: tuple(found) for role, found in by_role.items()})

    def holders(self, role: str) -> tuple[Holder, ...]:
        """Who holds `role`: those the plan names, or for the department head, the head
        of the employee's department when the plan names none."""
        return self._by_role.get(role, ())

    def name(self, role: str) -> str:
        """The first holder's name, or the role in words when nobody holds it."""
        found = self.holders(role)
        return found[0].name if found else role.replace("_", " ")

    def everyone(self) -> tuple[Holder, ...]:
        """The named people, then the department head (each part once)."""
        if self.department_head is None or DEPARTMENT_HEAD in {h.role for h in self.named}:
            return self.named
        return (*self.named, self.department_head)


_PLANS = bindparam("plan_ids", type_=Integer, expanding=True)
# Built once: the follow-ups run it for every batch, the pages for every plan. Each row
# is a part the plan names; the employee's row also carries the head of their department.
_WHO = ("id", "key", "name", "email", "locale")  # a Holder's person, in order
_HEAD = PERSON.alias("head")
_PEOPLE: Select[Any] = (
    select(*PLAN_ROLE.c["plan_id", "role"], *PERSON.c[_WHO], DEPARTMENT.c.name, *_HEAD.c[_WHO])
    .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
    .outerjoin(DEPARTMENT, DEPARTMENT.c.id == PERSON.c.department_id)
    .outerjoin(_HEAD, and_(_HEAD.c.id == DEPARTMENT.c.head_id, PLAN_ROLE.c.role == "employee"))
    .where(PLAN_ROLE.c.plan_id.in_(_PLANS))
    .order_by(PLAN_ROLE.c.id)
)
_HEAD_OF_EMPLOYEE: Select[Any] = (
    select(DEPARTMENT.c.head_id)
    .join(PERSON, PERSON.c.department_id == DEPARTMENT.c.id)
    .join(PLAN_ROLE, PLAN_ROLE.c.person_id == PERSON.c.id)
    .where(PLAN_ROLE.c.plan_id == bindparam("plan_id"), PLAN_ROLE.c.role == "employee")
)
_ROLES_HELD: Select[Any] = select(PLAN_ROLE.c.role).where(
    PLAN_ROLE.c.plan_id == bindparam("plan_id"), PLAN_ROLE.c.person_id == bindparam("person_id")
)


def people_of_plans(session: Session, plan_ids: Iterable[int]) -> dict[int, PlanPeople]:
    """Each plan's people (plans without any are left out), in one statement."""
    ids = sorted(set(plan_ids))
    if not ids:
        return {}
    named: dict[int, list[Holder]] = {}
    heads: dict[int, Holder] = {}
    for row in session.connection().execute(_PEOPLE, {"plan_ids": ids}).tuples():
        plan_id, role, department = row[0], row[1], row[7] or ""
        named.setdefault(plan_id, []).append(Holder._make((role, *row[2:7], department, False)))
        if row[8] is not None:  # the employee's department has a head
            heads[plan_id] = Holder._make((DEPARTMENT_HEAD, *row[8:13], department, True))
    return {plan_id: PlanPeople.of(held, heads.get(plan_id)) for plan_id, held in named.items()}


def plan_people(session: Session, plan_id: int) -> PlanPeople:
    """One plan's people (nobody, for a plan that names none)."""
    return people_of_plans(session, [plan_id]).get(plan_id, PlanPeople())


def standing_holders(
    session: Session, roles: Iterable[str], *, prefix: str = ""
) -> dict[str, list[tuple[Holder, str | None]]]:
    """Who holds each standing role of the organisation (`hr`, `auditor`, `admin`), with
    the department they hold it for (None: every department), keyed `prefix + role`."""
    rows = session.execute(
        select(ORG_ROLE.c.role, *PERSON.c[_WHO], DEPARTMENT.c.name)
        .join(PERSON, PERSON.c.id == ORG_ROLE.c.person_id)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == ORG_ROLE.c.department_id)
        .where(ORG_ROLE.c.role.in_(sorted(set(roles))))
        .order_by(ORG_ROLE.c.id)
    ).tuples()
    found: dict[str, list[tuple[Holder, str | None]]] = {}
    for role, *who, department in rows:
        holder = Holder._make((prefix + role, *who, department or "", True))
        found.setdefault(prefix + role, []).append((holder, department))
    return found


def heads_employees_department(session: Session, *, plan_id: int, person_id: int) -> bool:
    """True when `person_id` heads the department of the plan's employee."""
    head = session.execute(_HEAD_OF_EMPLOYEE, {"plan_id": plan_id}).scalar()
    return head is not None and head == person_id


def roles_held(session: Session, *, plan_id: int, person_id: int) -> set[str]:
    """The roles the plan names `person_id` in (none: they hold no named part)."""
    rows = session.execute(_ROLES_HELD, {"plan_id": plan_id, "person_id": person_id})
    return set(rows.scalars())
