"""The database engine, sessions and schema. SQLite file by default, PostgreSQL to scale out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session, SQLModel

# Importing the table modules registers them on SQLModel.metadata.
from models import (  # noqa: F401
    access,
    audit,
    clockwork,
    copies,
    definitions,
    followups,
    intake,
    notifications,
    orgaudit,
    outbox,
    people,
    plans,
    records,
    signin,
)
from models.errors import DatabaseUrlInvalid


class DatabaseSettings(BaseSettings):
    """Where the data lives: PERFPLAN_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="PERFPLAN_")

    database_url: str = "sqlite:///perfplan.db"


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3, the driver perfplan installs; a URL that
    names no database perfplan can open is a DatabaseUrlInvalid."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlInvalid(url) from None
    if parsed.drivername.split("+")[0] not in ("sqlite", "postgresql", "postgres"):
        raise DatabaseUrlInvalid(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sqlite_file(url: str | None = None) -> Path | None:
    """The file a SQLite URL names (relative to the current folder, as SQLite opens it), or
    None for PostgreSQL and in-memory databases."""
    parsed = make_url(normalise_url(url or DatabaseSettings().database_url))
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:":
        return None
    if name.startswith("file:"):  # a SQLite URI: file:path?mode=...
        if "mode=memory" in name:
            return None
        name = name.removeprefix("file:").split("?", 1)[0]
    return Path(name)


def output_folder(url: str | None = None) -> Path:
    """Where a database's files go by default (its outbox, its reports): `<name>-out/`,
    beside the SQLite file and named after it, or in the current folder after a
    PostgreSQL database's name. The default ./perfplan.db has ./perfplan-out/."""
    url = normalise_url(url or DatabaseSettings().database_url)
    file = sqlite_file(url)
    if file is not None:
        return file.parent / f"{file.stem}-out"
    return Path(f"{make_url(url).database or 'perfplan'}-out")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; NORMAL is durable at each
    # checkpoint and safe in WAL. The busy timeout makes concurrent writers
    # queue instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: PERFPLAN_DATABASE_URL), tuned for its database."""
    url = normalise_url(url or DatabaseSettings().database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def create_schema(engine: Engine) -> None:
    """Create every table (and the audit triggers) that does not exist yet."""
    SQLModel.metadata.create_all(engine)


def analyze(engine: Engine) -> None:
    """Refresh the query planner's statistics: after any bulk load (thousands of rows
    at once: the benchmarks' seeding, a restore), before the first query. Until then
    PostgreSQL plans from the empty tables' figures (the plan list took 27 ms instead
    of 1.4 ms); SQLite has no statistics at all until its first ANALYZE, which here
    samples at most 1,000 rows of each index to stay quick on large tables."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA analysis_limit=1000"))
        connection.execute(text("ANALYZE"))


BULK_ROWS = 1_000
"""Rows written at once from which the planner's statistics are refreshed with them."""


def analyze_tables(connection: Connection, *tables: Table) -> None:
    """ANALYZE these tables in the caller's transaction, after it wrote BULK_ROWS or more
    into them: the statistics commit with the rows (both databases allow ANALYZE inside
    a transaction), so no query after a bulk import plans from empty tables' figures."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("PRAGMA analysis_limit=1000"))
    for table in tables:
        connection.execute(text(f'ANALYZE "{table.name}"'))


def schema_exists(engine: Engine) -> bool:
    return inspect(engine).has_table("plan")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
