"""Storage's own refusals of a user's mistake (light: the CLI's help imports it)."""

from __future__ import annotations


class StorageError(ValueError):
    """Base of storage's refusals: the front door prints them as one sentence."""


class DatabaseUrlInvalid(StorageError):
    """PERFPLAN_DATABASE_URL names no database perfplan can open (a user's mistake)."""

    def __init__(self, url: str) -> None:
        # The scheme only: the rest may hold a password.
        shown = f"{url.split('://', 1)[0]}://…" if "://" in url else "not a URL"
        super().__init__(
            f"PERFPLAN_DATABASE_URL ({shown}) is not a database perfplan can open: "
            "use sqlite:///PATH/TO/FILE.db or postgresql://USER@HOST:PORT/DATABASE"
        )


class RevisionRefused(StorageError):
    """`perfplan db upgrade REVISION` names no revision this database can be brought to."""

    def __init__(self, revision: str, reason: str, known: list[str]) -> None:
        super().__init__(
            f"cannot upgrade to '{revision}': {reason.rstrip('.')} "
            f"(revisions: {', '.join(known)}, or head)"
        )
