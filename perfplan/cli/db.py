"""`perfplan init` and `perfplan db ...`: creating and migrating perfplan's tables."""

from __future__ import annotations

from typing import Annotated

import typer

from perfplan.cli.common import (
    JsonOption,
    console,
    database_url,
    existing_database_url,
    print_answer,
)

app = typer.Typer(
    help="Schema migrations (Alembic), for SQLite and PostgreSQL.", no_args_is_help=True
)


def init() -> None:
    """Create or migrate perfplan's tables in PERFPLAN_DATABASE_URL (default: ./perfplan.db)."""
    from models import migrate
    from models.db import make_engine

    engine = make_engine(database_url())
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    console.print(f"Database ready: {database_url()} (schema {migrate.head()})")


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database in PERFPLAN_DATABASE_URL to the newest schema (or REVISION)."""
    from models import migrate
    from models.db import make_engine

    engine = make_engine(database_url())
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine, revision)
        after = migrate.current(engine)
    finally:
        engine.dispose()
    console.print(f"{database_url()}: {before or 'empty'} → {after}")


@app.command("current")
def current(as_json: JsonOption = False) -> None:
    """The schema revision of the database, and the newest this perfplan knows."""
    from models import migrate
    from models.db import make_engine

    engine = make_engine(existing_database_url())
    try:
        revision = migrate.current(engine)
    finally:
        engine.dispose()
    head = migrate.head()
    state = "up to date" if revision == head else "run `perfplan db upgrade`"
    data = {"current": revision, "head": head, "up_to_date": revision == head}
    print_answer(data, as_json, f"{database_url()}: {revision or 'empty'} (newest {head}; {state})")


@app.command("analyze")
def analyze() -> None:
    """Refresh the database's query statistics (ANALYZE); run it after loading many rows.

    perfplan's own bulk loads do it themselves; a restore or an import by hand does not.
    """
    from models.db import analyze as refresh
    from models.db import make_engine

    engine = make_engine(database_url())
    try:
        refresh(engine)
    finally:
        engine.dispose()
    console.print(f"{database_url()}: statistics refreshed (ANALYZE).")


@app.command("grant-app-role")
def grant_app_role(
    role: Annotated[str, typer.Argument(help="The role the application will connect as.")],
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env", help="Name of an environment variable holding the role's password."
        ),
    ] = None,
) -> None:
    """PostgreSQL: create ROLE if needed; it may use every table but only INSERT audit records.

    Run it as the schema's owner after every `perfplan db upgrade`.
    """
    import os

    from models.db import make_engine
    from models.privileges import grant_app_role as grant

    password = os.environ.get(password_env) if password_env else None
    if password_env and password is None:
        raise typer.BadParameter(f"${password_env} is not set", param_hint="--password-env")
    engine = make_engine(database_url())
    try:
        statements = grant(engine, role, password=password)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    finally:
        engine.dispose()
    for statement in statements:
        console.print(
            statement if "PASSWORD" not in statement else f"ALTER ROLE {role} PASSWORD ***"
        )
