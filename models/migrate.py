"""Schema migrations (Alembic) for SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine

from models.errors import RevisionRefused

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest), in one transaction per step."""
    script = ScriptDirectory.from_config(alembic_config_for_scripts())
    known = sorted(str(step.revision) for step in script.walk_revisions())
    if revision not in {"head", *known}:  # alembic's own syntax (+1, -2, base) is not offered
        raise RevisionRefused(revision, "no such revision", known)
    config = alembic_config(engine)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except CommandError as refused:  # a revision behind the database's
        raise RevisionRefused(revision, str(refused), known) from None


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    script = ScriptDirectory.from_config(alembic_config_for_scripts())
    return str(script.get_current_head())


def alembic_config_for_scripts() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
