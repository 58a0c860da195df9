"""Storage's own refusals of a user's mistake (light: the CLI's help imports it)."""

from __future__ import annotations


class DatabaseUrlInvalid(ValueError):
    """PERFPLAN_DATABASE_URL names no database perfplan can open (a user's mistake)."""

    def __init__(self, url: str) -> None:
        # The scheme only: the rest may hold a password.
        shown = f"{url.split('://', 1)[0]}://…" if "://" in url else "not a URL"
        super().__init__(
            f"PERFPLAN_DATABASE_URL ({shown}) is not a database perfplan can open: "
            "use sqlite:///PATH/TO/FILE.db or postgresql://USER@HOST:PORT/DATABASE"
        )
