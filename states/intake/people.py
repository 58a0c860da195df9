"""`people import`: the organisation from the HR system's CSV file — people, their
departments, managers and locales, and who heads each department (docs/people-import.md).

The file speaks for the people it lists: a key not yet known is a new person, a known
one takes the file's name, email, locale, department and manager (a column the file
leaves out changes nothing), and the departments a row names in `head_of` are headed by
that person. People the file does not list are left as they are. Each row is checked
with the plan document's rules for a person (`states.plans.document.PersonDoc`: key,
name, email, locale, the bounds of `states.plans.bounds`), then the file as a whole
(duplicate keys, unknown managers, managers in a circle, a department headed twice).
Any problem refuses the whole file; otherwise every change is written in the caller's
transaction, each recorded in the organisation chain, and a file that changes nothing
writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, Literal, NamedTuple

from pydantic import Field, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from models.db import BULK_ROWS, analyze_tables
from models.tables import DEPARTMENT, ORG_AUDIT, PERSON
from people import directory, orgaudit
from people.orgaudit import Acting, OrgEntry
from states.errors import CellProblem, ImportInvalid
from states.intake.csvfile import CsvRow, read_csv
from states.plans.bounds import MAX_DEPARTMENTS, Name, sentence
from states.plans.document import PersonDoc
from states.plans.organisation import StoredDepartment, StoredPerson

REQUIRED = ("key", "name", "email")
OPTIONAL = ("locale", "department", "manager", "head_of")
HEADS_SEPARATOR = ";"
ChangeKind = Literal[
    "new_department", "new_person", "name", "email", "locale", "department", "manager", "head"
]
# A person's fields a row sets, in the order changes are told.
FIELDS: tuple[ChangeKind, ...] = ("name", "email", "locale", "department", "manager")
LABELS: dict[str, str] = {
    "new_department": "new department",
    "new_person": "new person",
    "name": "changed name",
    "email": "changed email",
    "locale": "changed locale",
    "department": "changed department",
    "manager": "changed manager",
    "head": "changed head",
}


class _Row(PersonDoc):
    """A row as the plan document's person, with a locale it may leave to what is stored
    and the departments the person heads."""

    locale: Literal["en", "zh-CN"] | None = None  # type: ignore[assignment]
    head_of: list[Name] = Field(default_factory=list, max_length=MAX_DEPARTMENTS)


class Entry(NamedTuple):
    """One row of the file, checked: the person as it says they are."""

    row: int
    key: str
    name: str
    email: str
    locale: str | None  # None: the stored one (en for someone new)
    department: str | None
    manager: str | None
    head_of: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One change the file makes: its row, what changes, to whom (a person's key or a
    department's name), before and after ("" for nothing)."""

    row: int
    kind: ChangeKind
    subject: str
    before: str
    after: str

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def __str__(self) -> str:
        if self.kind in ("new_person", "new_department"):
            return f"row {self.row}: {self.label} {self.subject}" + (
                f" ({self.after})" if self.after else ""
            )
        return (
            f"row {self.row}: {self.label} of {self.subject}: "
            f"{self.before or 'none'} → {self.after or 'none'}"
        )


@dataclass(frozen=True)
class Intake:
    """What importing a file does: every change, in the file's order, and the digest of
    them (what a person confirmed after a preview is what is written, or nothing)."""

    source: str
    rows: int
    changes: tuple[Change, ...]
    written: bool

    @property
    def digest(self) -> str:
        return changes_digest(self.changes)

    def count(self, *kinds: str) -> int:
        return sum(1 for change in self.changes if change.kind in kinds)


def changes_digest(changes: Iterable[Change]) -> str:
    return hashlib.sha256("\n".join(map(str, changes)).encode("utf-8")).hexdigest()


class Directory(NamedTuple):
    people: dict[str, StoredPerson]
    departments: dict[str, StoredDepartment]


_MANAGER = PERSON.alias("manager")
_HEAD = PERSON.alias("head")


def load_directory(session: Session) -> Directory:
    """Everyone and every department as stored, in two statements."""
    people = select(
        *PERSON.c["id", "key", "name", "email", "locale"],
        DEPARTMENT.c.name.label("department"),
        _MANAGER.c.key.label("manager"),
    )
    people = people.outerjoin(DEPARTMENT, DEPARTMENT.c.id == PERSON.c.department_id)
    people = people.outerjoin(_MANAGER, _MANAGER.c.id == PERSON.c.manager_id)
    departments = select(DEPARTMENT.c.id, DEPARTMENT.c.name, _HEAD.c.key.label("head"))
    departments = departments.outerjoin(_HEAD, _HEAD.c.id == DEPARTMENT.c.head_id)
    return Directory(
        {row.key: StoredPerson(*row) for row in session.execute(people).tuples()},
        {row.name: StoredDepartment(*row) for row in session.execute(departments).tuples()},
    )


def import_people(
    session: Session,
    data: bytes,
    *,
    source: str,
    now: datetime,
    by: Acting,
    dry_run: bool = False,
    expect: str | None = None,
) -> Intake:
    """Check the file and, unless `dry_run`, write its changes in `session`'s transaction.
    With `expect` (the digest a preview showed), changes other than those are not written:
    the intake comes back unwritten, for the caller to show again."""
    table = read_csv(data, source=source, required=REQUIRED, optional=OPTIONAL)
    given = frozenset(table.columns)
    entries, problems = _entries(table.rows)
    stored = load_directory(session)
    problems += _file_problems(entries, stored, given)
    if problems:
        raise ImportInvalid(source, sorted(problems, key=lambda p: p.row))
    changes = tuple(_changes(entries, stored, given))
    intake = Intake(source, len(entries), changes, written=False)
    if dry_run or not changes or (expect is not None and expect != intake.digest):
        return intake
    _write(session, entries, stored, changes, given)
    orgaudit.append_many(session, _records(changes, source), by=by, now=now)
    if len(changes) >= BULK_ROWS:  # the plan list must not plan from the empty tables
        analyze_tables(session.connection(), PERSON, DEPARTMENT, ORG_AUDIT)
    return Intake(source, len(entries), changes, written=True)


def _entries(rows: Iterable[CsvRow]) -> tuple[list[Entry], list[CellProblem]]:
    """Each row checked as a person on its own; a key on an earlier row is a problem."""
    entries: list[Entry] = []
    problems: list[CellProblem] = []
    first_row: dict[str, int] = {}
    for row in rows:
        values: dict[str, object] = {
            column: cell for column, cell in row.cells.items() if cell and column != "head_of"
        }
        heads = [part.strip() for part in row.cells.get("head_of", "").split(HEADS_SEPARATOR)]
        values["head_of"] = [part for part in heads if part]
        try:
            checked = _Row.model_validate(values)
        except ValidationError as error:
            problems += [_cell_problem(row, problem) for problem in error.errors()]
            continue
        if checked.key in first_row:
            problems.append(
                CellProblem(
                    row.number, "key", f"'{checked.key}' is on row {first_row[checked.key]} already"
                )
            )
            continue
        first_row[checked.key] = row.number
        entries.append(Entry(row.number, *_fields(checked)))
    return entries, problems


def _fields(
    checked: _Row,
) -> tuple[str, str, str, str | None, str | None, str | None, tuple[str, ...]]:
    return (
        checked.key,
        checked.name,
        checked.email,
        checked.locale,
        checked.department,
        checked.manager,
        tuple(dict.fromkeys(checked.head_of)),
    )


def _cell_problem(row: CsvRow, problem: ErrorDetails) -> CellProblem:
    """A cell pydantic refused, in the words `people add` and plan documents use."""
    column = str(problem["loc"][0]) if problem["loc"] else ""
    value = row.cells.get(column, "")
    if column in ("key", "manager") and directory.key_problem(value):
        return CellProblem(row.number, column, str(directory.key_problem(value)))
    if column == "email" and problem["type"] == "string_pattern_mismatch":
        return CellProblem(row.number, column, f"'{value[:80]}' is not an email address")
    if column == "locale":
        return CellProblem(
            row.number, column, f"'{value[:80]}' is not a locale perfplan speaks (en, zh-CN)"
        )
    return CellProblem(row.number, column, sentence(problem))


def _file_problems(
    entries: list[Entry], stored: Directory, given: frozenset[str]
) -> list[CellProblem]:
    """What is wrong with the rows together: managers nobody is, managers in a circle,
    a department headed on two rows."""
    known = set(stored.people) | {entry.key for entry in entries}
    problems: list[CellProblem] = []
    for entry in entries:
        if entry.manager == entry.key:
            problems.append(CellProblem(entry.row, "manager", "no one manages themselves"))
        elif entry.manager and entry.manager not in known:
            problems.append(
                CellProblem(
                    entry.row,
                    "manager",
                    f"no person with key '{entry.manager}', in the file or in perfplan",
                )
            )
    problems += _heads_problems(entries)
    if not problems and "manager" in given:
        problems += _circles(entries, stored)
    return problems


def _heads_problems(entries: list[Entry]) -> list[CellProblem]:
    headed: dict[str, Entry] = {}
    problems = []
    for entry in entries:
        for department in entry.head_of:
            if department in headed:
                first = headed[department]
                problems.append(
                    CellProblem(
                        entry.row,
                        "head_of",
                        f"{department} is headed by {first.key} on row {first.row} already",
                    )
                )
            headed.setdefault(department, entry)
    return problems


def _circles(entries: list[Entry], stored: Directory) -> list[CellProblem]:
    """Managers that, followed up, come back to where they started: one problem per
    circle, at the row of its first person in the file."""
    boss = {key: person.manager for key, person in stored.people.items()}
    boss |= {entry.key: entry.manager for entry in entries}
    rows = {entry.key: entry.row for entry in entries}
    done: set[str] = set()
    problems = []
    for entry in entries:
        path: dict[str, int] = {}
        key: str | None = entry.key
        while key is not None and key not in done and key not in path:
            path[key] = len(path)
            key = boss.get(key)
        done.update(path)
        if key is not None and key in path:
            circle = list(path)[path[key] :]
            first = min(circle, key=lambda k: rows.get(k, 1 << 30))
            start = circle.index(first)
            shown = " → ".join([*circle[start:], *circle[:start], first])
            problems.append(
                CellProblem(
                    rows.get(first, entry.row),
                    "manager",
                    f"managers in a circle: {shown} (each is managed by the next)",
                )
            )
    return problems


def _changes(entries: list[Entry], stored: Directory, given: frozenset[str]) -> Iterator[Change]:
    """Every change, in the file's order: for each row, its new departments, the person
    new or each field that changes, then the departments whose head changes."""
    announced = set(stored.departments)
    heads = {d.name: d.head for d in stored.departments.values()}
    headed = _headed_by(stored)
    claimed = {name for entry in entries for name in entry.head_of}
    for entry in entries:
        named = [entry.department] if "department" in given and entry.department else []
        for department in dict.fromkeys([*named, *entry.head_of]):
            if department not in announced:
                announced.add(department)
                yield Change(entry.row, "new_department", department, "", "")
        was = stored.people.get(entry.key)
        if was is None:
            yield Change(entry.row, "new_person", entry.key, "", _summary(entry))
        else:
            yield from _field_changes(entry, was, given)
        if "head_of" in given:
            yield from _head_changes(entry, heads, headed.get(entry.key, []), claimed)


def _headed_by(stored: Directory) -> dict[str, list[str]]:
    """The departments each person heads now, by name."""
    headed: dict[str, list[str]] = {}
    for department in sorted(stored.departments.values(), key=lambda d: d.name):
        if department.head:
            headed.setdefault(department.head, []).append(department.name)
    return headed


def _field_changes(entry: Entry, was: StoredPerson, given: frozenset[str]) -> Iterator[Change]:
    for field in FIELDS:
        after = getattr(entry, field)
        if field not in given or (field == "locale" and after is None):
            continue
        before = getattr(was, field)
        if after != before:
            yield Change(entry.row, field, entry.key, before or "", after or "")


def _head_changes(
    entry: Entry, heads: dict[str, str | None], heading: list[str], claimed: set[str]
) -> Iterator[Change]:
    """The departments the row names that someone else heads now, and those the person
    heads now that neither this row nor any other names: they are left without one."""
    for department in entry.head_of:
        if heads.get(department) != entry.key:
            yield Change(entry.row, "head", department, heads.get(department) or "", entry.key)
    for department in heading:
        if department not in entry.head_of and department not in claimed:
            yield Change(entry.row, "head", department, entry.key, "")


def _summary(entry: Entry) -> str:
    parts = [entry.name, entry.email, entry.locale or "en", entry.department or "no department"]
    if entry.manager:
        parts.append(f"manager {entry.manager}")
    return ", ".join(parts)


def _write(
    session: Session,
    entries: list[Entry],
    stored: Directory,
    changes: tuple[Change, ...],
    given: frozenset[str],
) -> None:
    """The changes, in a statement per kind of change whatever their number."""
    new_departments = [c.subject for c in changes if c.kind == "new_department"]
    if new_departments:
        session.execute(insert(DEPARTMENT), [{"name": name} for name in new_departments])
    departments = dict(session.execute(select(DEPARTMENT.c.name, DEPARTMENT.c.id)).tuples().all())
    people = [_person_values(e, stored, given, departments) for e in entries]
    new = [
        values
        for entry, values in zip(entries, people, strict=True)
        if entry.key not in stored.people
    ]
    if new:
        session.execute(
            insert(PERSON), [{k: v for k, v in p.items() if k != "manager"} for p in new]
        )
    ids = dict(session.execute(select(PERSON.c.key, PERSON.c.id)).tuples().all())
    touched = {c.subject for c in changes if c.kind in FIELDS} | {
        p["key"] for p in new if p["manager"]
    }
    updates = [
        {
            **{f"b_{k}": v for k, v in p.items() if k != "manager"},
            "b_manager_id": ids.get(p["manager"]),
        }
        for p in people
        if p["key"] in touched
    ]
    if updates:
        session.execute(_UPDATE_PERSON, updates)
    heads = {c.subject: c.after for c in changes if c.kind == "head"}
    if heads:
        rows = [{"b_id": departments[d], "b_head_id": ids.get(h)} for d, h in heads.items()]
        session.execute(_UPDATE_HEAD, rows)


_UPDATE_PERSON = (
    update(PERSON)
    .where(PERSON.c.key == bindparam("b_key"))
    .values(
        name=bindparam("b_name"),
        email=bindparam("b_email"),
        locale=bindparam("b_locale"),
        department_id=bindparam("b_department_id"),
        manager_id=bindparam("b_manager_id"),
    )
)
_UPDATE_HEAD = (
    update(DEPARTMENT)
    .where(DEPARTMENT.c.id == bindparam("b_id"))
    .values(head_id=bindparam("b_head_id"))
)


def _person_values(
    entry: Entry, stored: Directory, given: frozenset[str], departments: dict[str, int]
) -> dict[str, Any]:
    """The person's columns after the import (the manager by key): the file's where it
    has the column, else what is stored."""
    was = stored.people.get(entry.key)
    department = entry.department if "department" in given else (was and was.department)
    manager = entry.manager if "manager" in given else (was and was.manager)
    return {
        "key": entry.key,
        "name": entry.name,
        "email": entry.email,
        "locale": entry.locale or (was.locale if was else "en"),
        "department_id": departments[department] if department else None,
        "manager": manager or None,
    }


def _records(changes: tuple[Change, ...], source: str) -> list[OrgEntry]:
    """The organisation chain's records of the changes, row by row: a department created,
    a person created or changed (every field of theirs in one record), a head named or
    gone; each says the file and row it came from."""
    records: list[OrgEntry] = []
    for row, grouped in groupby(changes, key=lambda change: change.row):
        said = f"(import {source}, row {row})"
        of_row = list(grouped)
        fields = [
            f"{c.kind} {c.before or '-'} → {c.after or '-'}" for c in of_row if c.kind in FIELDS
        ]
        for change in of_row:
            if change.kind == "new_department":
                records.append(OrgEntry("department.created", change.subject, said))
            elif change.kind == "new_person":
                records.append(OrgEntry("person.created", change.subject, f"{change.after} {said}"))
        if fields:
            records.append(
                OrgEntry("person.changed", of_row[0].subject, f"{', '.join(fields)} {said}")
            )
        records += [_head_record(c, said) for c in of_row if c.kind == "head"]
    return records


def _head_record(change: Change, said: str) -> OrgEntry:
    if not change.after:
        return OrgEntry(
            "person.changed", change.before, f"no longer head of {change.subject} {said}"
        )
    was = f" (was {change.before})" if change.before else ""
    return OrgEntry("person.changed", change.after, f"head of {change.subject}{was} {said}")
