"""The database engine, sessions and schema. SQLite file by default, PostgreSQL to scale out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

# Importing the table modules registers them on SQLModel.metadata.
from models import (  # noqa: F401
    access,
    audit,
    clockwork,
    copies,
    definitions,
    followups,
    notifications,
    outbox,
    people,
    plans,
    records,
)


class DatabaseSettings(BaseSettings):
    """Where the data lives: PERFPLAN_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="PERFPLAN_")

    database_url: str = "sqlite:///perfplan.db"


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3, the driver perfplan installs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


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
