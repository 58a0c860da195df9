"""The one place where errors become exit codes (and HTTP statuses).

    PerfplanError (front door)
     ├── NotInitialised        the database has no perfplan schema yet
     │    └── NoDatabaseFile   the SQLite file does not exist (nothing is created)
     ├── DatabaseInUse         `perfplan demo` on a database that holds plans already
     ├── CannotWrite           a folder the user named cannot be written to
     └── SimulationRefused     `perfplan simulate`: a plan, events file or definition it cannot play

Errors of the rooms below (`states.errors`) are mapped here too; a user's
mistake is a sentence and a non-zero exit, never a traceback.
"""

from __future__ import annotations

from models.errors import DatabaseUrlInvalid, RevisionRefused, StorageError
from notifications.errors import (
    ConfigurationError,
    NotificationNotFound,
    NotificationsError,
    NotRetryable,
    TemplateProblem,
    UnknownKind,
)
from people.errors import PeopleError, SignInLocked
from states.errors import (
    Conflict,
    DefinitionInvalid,
    Forbidden,
    InvalidInput,
    NotAllowedNow,
    NotConfigured,
    NotFound,
    StatesError,
    Unauthenticated,
)


class PerfplanError(Exception):
    """Base of the front door's own errors."""


class NotInitialised(PerfplanError):
    def __init__(self, url: str) -> None:
        super().__init__(f"the database {url} has no perfplan tables yet: run `perfplan init`")


class CannotWrite(PerfplanError):
    def __init__(self, path: object, error: OSError) -> None:
        reason = error.strerror or type(error).__name__
        super().__init__(f"cannot write to {path}: {reason.lower()}")


class NoDatabaseFile(NotInitialised):
    """A command that only reads or changes plans found no SQLite file; it creates none."""

    def __init__(self, url: str, file: str) -> None:
        PerfplanError.__init__(
            self,
            f"there is no database at {file} ({url}): run `perfplan init` to create it "
            "(or `perfplan db upgrade`), or set PERFPLAN_DATABASE_URL to an existing one",
        )


class DatabaseInUse(PerfplanError):
    def __init__(self, url: str, plans: int) -> None:
        super().__init__(
            f"the database {url} holds {plans} plan(s) already: the demo adds its people "
            "and Zhang's plan only to an empty database; point PERFPLAN_DATABASE_URL at a "
            "new one, or add them anyway with --force"
        )


class SimulationRefused(PerfplanError):
    """`perfplan simulate` cannot play its plan, events file or definition (one sentence
    naming the file and line); nothing has been written."""


class AuditBroken(PerfplanError):
    """`audit verify` found a broken chain (the report has been printed)."""


# (error class, exit code, HTTP status), most specific first.
ERROR_MAP: list[tuple[type[Exception], int, int]] = [
    (DefinitionInvalid, 2, 422),
    (InvalidInput, 2, 422),
    (NotFound, 3, 404),
    (SignInLocked, 4, 429),  # before Unauthenticated, which it is
    (Unauthenticated, 4, 401),
    (Forbidden, 4, 403),
    (Conflict, 6, 409),
    (NotAllowedNow, 5, 409),
    (NotConfigured, 7, 409),
    (NotInitialised, 7, 503),
    (DatabaseUrlInvalid, 7, 503),
    (RevisionRefused, 2, 422),
    (StorageError, 1, 400),
    (DatabaseInUse, 5, 409),
    (AuditBroken, 8, 409),
    (CannotWrite, 2, 422),
    (SimulationRefused, 2, 422),
    (NotificationNotFound, 3, 404),
    (NotRetryable, 5, 409),
    (ConfigurationError, 2, 422),
    (UnknownKind, 2, 422),
    (TemplateProblem, 2, 422),
    (StatesError, 1, 400),
    (PeopleError, 1, 400),
    (NotificationsError, 1, 400),
    (PerfplanError, 1, 400),
]


def exit_code(error: Exception) -> int:
    for kind, code, _status in ERROR_MAP:
        if isinstance(error, kind):
            return code
    return 1


def http_status(error: Exception) -> int:
    for kind, _code, status in ERROR_MAP:
        if isinstance(error, kind):
            return status
    return 500
