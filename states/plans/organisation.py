"""What a plan document may say about the organisation: it refers to people and
departments that exist, by key and name, or creates new ones — it never changes those
that exist (a person's name, email, locale, department or manager; a department's head),
and HR opens it only for an employee of a department they cover.

Repeating what is stored, unchanged, is referring; a field the document leaves out says
nothing. Who manages whom and who heads a department decide who reads and signs plans
(people.access, states.engine.authority), so a plan is no way to change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models.tables import DEPARTMENT, PERSON
from people import directory
from people.access import Viewer
from people.orgaudit import Acting
from states.plans.document import PlanDocument

NOT_CHANGED = {
    "people": "a plan document does not change existing people",
    "departments": "a plan document does not change existing departments",
}
_MANAGER = PERSON.alias("manager")
_HEAD = PERSON.alias("head")


class StoredPerson(NamedTuple):
    id: int
    key: str
    name: str
    email: str
    locale: str
    department: str | None
    manager: str | None  # the manager's key


class StoredDepartment(NamedTuple):
    id: int
    name: str
    head: str | None  # the head's key


def stored_people(session: Session, keys: Iterable[str]) -> dict[str, StoredPerson]:
    """The people with these keys as stored, with their department's name and their
    manager's key (keys nobody has are left out)."""
    wanted = sorted(set(keys))
    query = (
        select(
            *PERSON.c["id", "key", "name", "email", "locale"],
            DEPARTMENT.c.name.label("department"),
            _MANAGER.c.key.label("manager"),
        )
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == PERSON.c.department_id)
        .outerjoin(_MANAGER, _MANAGER.c.id == PERSON.c.manager_id)
        .where(PERSON.c.key.in_(wanted))
    )
    return {row.key: StoredPerson(*row) for row in session.execute(query).tuples()}


def stored_departments(session: Session, names: Iterable[str]) -> dict[str, StoredDepartment]:
    query = (
        select(DEPARTMENT.c.id, DEPARTMENT.c.name, _HEAD.c.key.label("head"))
        .outerjoin(_HEAD, _HEAD.c.id == DEPARTMENT.c.head_id)
        .where(DEPARTMENT.c.name.in_(sorted(set(names))))
    )
    return {row.name: StoredDepartment(*row) for row in session.execute(query).tuples()}


def _department_names(doc: PlanDocument) -> set[str]:
    return {d.name for d in doc.departments} | {p.department for p in doc.people if p.department}


def reference_problems(doc: PlanDocument, known: set[str]) -> list[str]:
    """Managers and heads the document names must be people it lists or who exist."""
    problems = []
    for listed in doc.people:
        if listed.manager == listed.key:
            problems.append(f"people.{listed.key}.manager: no one manages themselves")
        elif listed.manager and listed.manager not in known:
            problems.append(f"people.{listed.key}.manager: unknown person '{listed.manager}'")
    problems += [
        f"departments.{d.name}.head: unknown person '{d.head}'"
        for d in doc.departments
        if d.head and d.head not in known
    ]
    return problems


def _said(value: str | None, what: str) -> str:
    return f"with {what} {value}" if value else f"with no {what}"


def _person_changes(doc: PlanDocument, stored: dict[str, StoredPerson]) -> list[str]:
    problems = []
    for listed in doc.people:
        was = stored.get(listed.key)
        if was is None:
            continue
        given = listed.model_fields_set
        for field in ("name", "email", "locale", "manager"):
            if field in given and getattr(listed, field) != getattr(was, field):
                problems.append(
                    f"people.{listed.key}.{field}: {was.name} already exists "
                    f"{_said(getattr(was, field), field)}; {NOT_CHANGED['people']}"
                )
        if "department" in given and listed.department != was.department:
            where = f"in {was.department}" if was.department else "in no department"
            problems.append(
                f"people.{listed.key}.department: {was.name} already exists {where}; "
                f"{NOT_CHANGED['people']}"
            )
    return problems


def change_problems(session: Session, doc: PlanDocument) -> list[str]:
    """Every change the document would make to a person or department that exists."""
    problems = _person_changes(doc, stored_people(session, (p.key for p in doc.people)))
    stored = stored_departments(session, (d.name for d in doc.departments))
    for listed in doc.departments:
        was = stored.get(listed.name)
        if was is not None and "head" in listed.model_fields_set and listed.head != was.head:
            problems.append(
                f"departments.{listed.name}.head: {listed.name} already exists "
                f"{_said(was.head, 'head')}; {NOT_CHANGED['departments']}"
            )
    return problems


def _employees_department(
    doc: PlanDocument, stored: dict[str, StoredPerson], employee: str
) -> str | None:
    if employee in stored:
        return stored[employee].department
    return next((p.department for p in doc.people if p.key == employee), None)


def scope_problems(session: Session, doc: PlanDocument, opener: Viewer | None) -> list[str]:
    """HR opens a plan only for an employee of a department they cover (or of all): the
    employee's department decides, not the roles the document gives the opener."""
    if opener is None or None in opener.hr_departments:
        return []
    employees = doc.holders("employee")
    stored = stored_people(session, employees)
    departments = {p.department for p in stored.values() if p.department}
    departments |= _department_names(doc)
    ids = {d.name: d.id for d in stored_departments(session, departments).values()}
    covered = sorted(d for d in opener.hr_departments if d is not None)
    names = session.execute(select(DEPARTMENT.c.name).where(DEPARTMENT.c.id.in_(covered)))
    covers = ", ".join(sorted(names.scalars())) or "no department"
    problems = []
    for employee in employees:
        department = _employees_department(doc, stored, employee)
        if department is None or ids.get(department) not in opener.hr_departments:
            problems.append(
                f"roles.employee: {employee} is in {department or 'no department'}; "
                f"{opener.key} is HR for {covers} only, and opens plans for its employees"
            )
    return problems


def _new_departments(session: Session, doc: PlanDocument) -> dict[str, int]:
    """Every department the document names, by name: those that exist, and the new ones."""
    names = _department_names(doc)
    ids = {d.name: d.id for d in stored_departments(session, names).values()}
    for name in sorted(names - set(ids)):
        created = insert(DEPARTMENT).values(name=name).returning(DEPARTMENT.c.id)
        ids[name] = session.execute(created).scalar_one()
    return ids


def write_organisation(
    session: Session, doc: PlanDocument, keys: set[str], *, now: datetime, by: Acting
) -> dict[str, int]:
    """Create the people and departments the document adds (with their managers and
    heads), each recorded in the organisation chain; the ids of everyone in `keys` and in
    the document, by key."""
    exist = set(stored_people(session, (p.key for p in doc.people)))
    new_departments = {d.name for d in doc.departments} - set(
        stored_departments(session, (d.name for d in doc.departments))
    )
    departments = _new_departments(session, doc)
    for listed in doc.people:
        if listed.key not in exist:
            fields = listed.model_dump(include={"key", "name", "email", "locale"})
            department = departments[listed.department] if listed.department else None
            session.execute(insert(PERSON).values(**fields, department_id=department))
            detail = directory.person_detail(
                name=listed.name,
                email=listed.email,
                locale=listed.locale,
                department=listed.department,
            ) + (f", manager {listed.manager}" if listed.manager else "")
            directory.record_change(
                session, kind="person.created", subject=listed.key, detail=detail, now=now, by=by
            )
    ids = {p.key: p.id for p in stored_people(session, keys | {p.key for p in doc.people}).values()}
    for listed in doc.people:
        if listed.key not in exist and listed.manager:
            values = {"manager_id": ids[listed.manager]}
            session.execute(update(PERSON).where(PERSON.c.key == listed.key).values(**values))
    for head in doc.departments:
        if head.name in new_departments and head.head:
            values = {"head_id": ids[head.head]}
            session.execute(
                update(DEPARTMENT).where(DEPARTMENT.c.id == departments[head.name]).values(**values)
            )
            directory.record_change(
                session,
                kind="person.changed",
                subject=head.head,
                detail=f"head of {head.name}",
                now=now,
                by=by,
            )
    return ids
