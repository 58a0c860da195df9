"""The people directory: what a person's key may be, and adding someone who is on no plan
yet (an auditor, an admin)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlmodel import Session

from models.tables import DEPARTMENT, PERSON
from people import orgaudit
from people.errors import InvalidInput
from people.orgaudit import Acting

# How people are named in files, on the command line and in the audit trail.
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
KEY_LENGTH = 64
_KEY = re.compile(KEY_PATTERN)
# The keys perfplan itself acts and speaks under: the automation's actor in the audit
# trail (`system`, named `perfplan`) and whoever runs the CLI on the database itself
# (`operator`). No person is ever created under one, so no token, password or plan role
# can reach the automation.
RESERVED_KEYS = frozenset({"system", "operator", "perfplan"})


def is_reserved(key: str) -> bool:
    """Whether `key` is one the automation uses (in any case: `System` reads the same)."""
    return key.casefold() in RESERVED_KEYS


def key_problem(key: str) -> str | None:
    """Why `key` cannot be a new person's key, or None when it can."""
    if is_reserved(key):
        return f"'{key}' is reserved for perfplan's own automation, not a person's key"
    if len(key) > KEY_LENGTH or not _KEY.match(key):
        return (
            f"'{key}' is not a person's key: lower-case letters, digits, _ . -, "
            f"starting with a letter or digit, at most {KEY_LENGTH} characters"
        )
    return None


def add_person(
    session: Session,
    *,
    key: str,
    name: str,
    email: str,
    now: datetime,
    by: Acting,
    locale: str = "en",
    department: str | None = None,
) -> int:
    """A new person; their department is created when it does not exist yet. Recorded
    in the organisation chain."""
    problem = key_problem(key)
    if problem is not None:
        raise InvalidInput(problem, field="key")
    if "@" not in email:
        raise InvalidInput(f"'{email}' is not an email address", field="email")
    if locale not in ("en", "zh-CN"):
        raise InvalidInput(
            f"'{locale}' is not a locale perfplan speaks (en, zh-CN)", field="locale"
        )
    if session.execute(select(PERSON.c.id).where(PERSON.c.key == key)).scalar() is not None:
        raise InvalidInput(f"a person with key '{key}' exists already", field="key")
    department_id = None
    if department:
        query = select(DEPARTMENT.c.id).where(DEPARTMENT.c.name == department)
        department_id = session.execute(query).scalar()
        if department_id is None:
            department_id = session.execute(
                insert(DEPARTMENT).values(name=department).returning(DEPARTMENT.c.id)
            ).scalar_one()
    person_id = session.execute(
        insert(PERSON)
        .values(key=key, name=name, email=email, locale=locale, department_id=department_id)
        .returning(PERSON.c.id)
    ).scalar_one()
    orgaudit.append(
        session,
        kind="person.created",
        subject=key,
        by=by,
        now=now,
        detail=person_detail(name=name, email=email, locale=locale, department=department),
    )
    return int(person_id)


def record_change(
    session: Session, *, kind: str, subject: str, detail: str, now: datetime, by: Acting
) -> None:
    """A person created or changed elsewhere (a plan document): in the organisation chain."""
    orgaudit.append(session, kind=kind, subject=subject, by=by, now=now, detail=detail)


def person_detail(*, name: str, email: str, locale: str, department: str | None) -> str:
    """A person's fields as the organisation chain records them."""
    return f"name {name!r}, email {email}, locale {locale}, department {department or '-'}"


class PersonRow(NamedTuple):
    key: str
    name: str
    email: str
    locale: str
    department: str | None


def list_people(session: Session) -> list[PersonRow]:
    """Everyone perfplan knows, by key."""
    query = (
        select(
            PERSON.c.key,
            PERSON.c.name,
            PERSON.c.email,
            PERSON.c.locale,
            DEPARTMENT.c.name.label("department"),
        )
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == PERSON.c.department_id)
        .order_by(PERSON.c.key)
    )
    return [PersonRow(*row) for row in session.execute(query).tuples()]


def names_of(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """The names of the people with these keys (keys nobody has are left out)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.execute(select(PERSON.c.key, PERSON.c.name).where(PERSON.c.key.in_(wanted)))
    return dict(rows.tuples().all())


def department_names(session: Session) -> list[str]:
    """Every department's name, in order."""
    return list(session.execute(select(DEPARTMENT.c.name).order_by(DEPARTMENT.c.name)).scalars())
