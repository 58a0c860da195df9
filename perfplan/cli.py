"""The `perfplan` command. Heavy imports (SQLAlchemy, the engine, and Prefect
when flows arrive) happen inside commands, so `perfplan --help` starts fast."""

from __future__ import annotations

import sys

import typer

from perfplan import (
    cli_audit,
    cli_config,
    cli_db,
    cli_flows,
    cli_notify,
    cli_plan,
    cli_report,
    cli_web,
)
from perfplan.common import NowOption, console, database_url, errors, instant

app = typer.Typer(
    help="perfplan: performance improvement plans (绩效改进计划) as declarative state machines, "
    "with a tamper-evident audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(cli_plan.app, name="plan")
app.add_typer(cli_audit.app, name="audit")
app.add_typer(cli_config.app, name="config")
app.add_typer(cli_db.app, name="db")
app.add_typer(cli_notify.app, name="notify")
app.command("sweep")(cli_flows.sweep)
app.command("dispatch")(cli_flows.dispatch)
app.command("serve")(cli_flows.serve)
app.command("report")(cli_report.report)
app.command("web")(cli_web.web)
app.add_typer(cli_web.tokens, name="token")
app.add_typer(cli_web.people, name="people")


@app.command("init")
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


@app.command("demo")
def demo(now: NowOption = None) -> None:
    """Play Zhang's plan (docs/examples/zhang.yaml) through its whole life, with simulated time."""
    from perfplan.demo import run

    run(started_at=instant(now) if now else None)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one clear sentence and a non-zero exit."""
    from perfplan.errors import AuditBroken, exit_code

    try:
        app(args=argv)
    except AuditBroken as broken:
        sys.exit(exit_code(broken))
    except Exception as error:
        if not _is_user_error(error):
            raise
        errors.print(f"[red]error:[/] {error}", markup=True, soft_wrap=True)
        sys.exit(exit_code(error))


def _is_user_error(error: Exception) -> bool:
    from sqlalchemy.exc import OperationalError

    from notifications.errors import NotificationsError
    from people.errors import PeopleError
    from perfplan.errors import PerfplanError
    from states.errors import StatesError

    if isinstance(error, OperationalError):
        return True  # an unreachable or locked database: say so, no traceback
    return isinstance(error, StatesError | PeopleError | PerfplanError | NotificationsError)


if __name__ == "__main__":
    main()
