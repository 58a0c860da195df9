"""What can go wrong in the rules room.

    StatesError
     ├── DefinitionInvalid      a definition file has problems (all of them, with paths)
     ├── NotAllowedNow          the plan's state or a guard refuses it (now)
     │    └── GuardFailed
     ├── Conflict               someone else changed the plan first
     └── NotConfigured          this installation is not set up for the request

The refusals the people room shares with every room above (`people.errors`) are
raised here too, and named here for the rules' callers:

    NotFound ── DefinitionNotFound, PlanNotFound, PersonNotFound
    InvalidInput ── InvalidDocument   a plan document or an event's inputs are malformed
    InvalidInput ── ImportInvalid     a CSV file to import has problems (each by row, column)
    Unauthenticated, Forbidden        the actor's role may not do this (at all)
    Forbidden ── DocumentForbidden    a plan document changes what no plan may change
                                      (existing people, departments) or opens a plan
                                      outside its opener's departments

The front door maps these to exit codes and HTTP statuses in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from people.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PersonNotFound,
    PlanNotFound,
    Unauthenticated,
)

__all__ = [
    "Conflict",
    "DefinitionInvalid",
    "DefinitionNotFound",
    "DocumentForbidden",
    "Forbidden",
    "GuardFailed",
    "ImportInvalid",
    "InvalidDocument",
    "InvalidInput",
    "NotAllowedNow",
    "NotConfigured",
    "NotFound",
    "PersonNotFound",
    "PlanNotFound",
    "Problem",
    "StatesError",
    "Unauthenticated",
]


class StatesError(Exception):
    """Base of the rules room's errors; `str()` is a sentence a person can act on."""


@dataclass(frozen=True)
class Problem:
    """One problem in a definition file: a stable code, where, and how to fix it."""

    code: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{self.code} at {where}: {self.message}"


def _problems_listed(source: str, problems: Sequence[object]) -> str:
    """`source: 2 problem(s)` and a line for each: how a file's problems are all told at once."""
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{source}: {len(problems)} problem(s)\n{lines}"


class DefinitionInvalid(StatesError):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(_problems_listed(source, problems))


class DefinitionNotFound(NotFound):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(
            f"no workflow definition named '{name}'; known: {', '.join(known) or 'none'}"
        )


class NotAllowedNow(StatesError):
    def __init__(self, message: str, *, plan_id: int, event: str, state: str) -> None:
        self.plan_id = plan_id
        self.event = event
        self.state = state
        super().__init__(message)


class GuardFailed(NotAllowedNow):
    def __init__(self, guard: str, reason: str, *, plan_id: int, event: str, state: str) -> None:
        self.guard = guard
        self.reason = reason
        super().__init__(
            f"plan {plan_id}: '{event}' is not allowed now ({guard}): {reason}",
            plan_id=plan_id,
            event=event,
            state=state,
        )


class Conflict(StatesError):
    def __init__(self, plan_id: int, expected: int, actual: int | None = None) -> None:
        self.plan_id = plan_id
        self.expected = expected
        self.actual = actual
        now_at = f" (now at version {actual})" if actual is not None else ""
        super().__init__(
            f"plan {plan_id} was changed by someone else since version {expected}{now_at}: "
            "reload it and try again"
        )


class InvalidDocument(InvalidInput):
    """A plan document with problems; every problem is listed, each with its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(_problems_listed(source, problems))


@dataclass(frozen=True)
class CellProblem:
    """One problem of a CSV file: its row as a spreadsheet numbers it (the header is row
    1; 0 for the file as a whole), the column's name (empty for the whole row), and why."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.row:
            return self.message
        if not self.column:
            return f"row {self.row}: {self.message}"
        return f"row {self.row}, {self.column}: {self.message}"


# How many of a file's problems its refusal spells out (the web page shows as many).
PROBLEMS_TOLD = 100


class ImportInvalid(InvalidInput):
    """A file to import with problems: nothing of it is written. Every problem is kept;
    the sentence lists the first `PROBLEMS_TOLD`."""

    def __init__(self, source: str, problems: list[CellProblem]) -> None:
        self.source = source
        self.problems = problems
        told = [f"  - {p}" for p in problems[:PROBLEMS_TOLD]]
        if len(problems) > PROBLEMS_TOLD:
            told.append(f"  ... and {len(problems) - PROBLEMS_TOLD} more")
        heading = f"{source}: {len(problems)} problem(s), nothing imported"
        super().__init__("\n".join([heading, *told]))


class DocumentForbidden(Forbidden):
    """A plan document that is well formed but asks for what its opener may not do; every
    refusal is listed, each with its path, as for an invalid document."""

    def __init__(self, source: str, problems: list[str], *, actor: str) -> None:
        self.source = source
        self.problems = problems
        super().__init__(_problems_listed(source, problems), plan_id=0, event="create", actor=actor)


class NotConfigured(StatesError):
    """The request needs a setting this installation does not have (e.g. a directory)."""
