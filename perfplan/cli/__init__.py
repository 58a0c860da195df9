"""The `perfplan` command: the Typer app, assembled from one module per command group,
and `main`, where a user's mistake becomes one sentence and an exit code.

    common  the options, session and output that every command shares
    plan    plan create, list, show, and the plan's activities (fire, sign, measure, ...)
    audit   audit log, verify          config  config check, diagram, list
    db      init, db upgrade, current, grant-app-role
    notify  notify channels, preview, failed, retry, send, show
    flows   sweep, dispatch, serve     report  report PLAN
    status  status: whether the clockwork is healthy
    web     web                        token   token create, list, revoke
    people  people add, list, grant, revoke, password
    demo    demo: Zhang's plan through its whole life

Heavy imports (SQLAlchemy, the services, Prefect) happen inside commands, so
`perfplan --help` starts fast.
"""

from __future__ import annotations

import sys

import typer
from rich.text import Text

from perfplan.cli import (
    audit,
    config,
    db,
    demo,
    flows,
    notify,
    people,
    plan,
    report,
    status,
    token,
    web,
)
from perfplan.cli.common import dispose_engines, errors

app = typer.Typer(
    help="perfplan: performance improvement plans (绩效改进计划) as declarative state machines, "
    "with a tamper-evident audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(plan.app, name="plan")
app.add_typer(audit.app, name="audit")
app.add_typer(config.app, name="config")
app.add_typer(db.app, name="db")
app.add_typer(notify.app, name="notify")
app.command("sweep")(flows.sweep)
app.command("dispatch")(flows.dispatch)
app.command("serve")(flows.serve)
app.command("report")(report.report)
app.command("web")(web.web)
app.add_typer(token.app, name="token")
app.add_typer(people.app, name="people")
app.command("init")(db.init)
app.command("demo")(demo.demo)
app.command("status")(status.status)


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
        # The sentence may quote what someone typed: it is printed as text, never markup.
        errors.print(Text.assemble(("error:", "red"), f" {_sentence(error)}"), soft_wrap=True)
        sys.exit(exit_code(error))
    finally:
        dispose_engines()


def _sentence(error: Exception) -> str:
    """What to tell the user: the error's own sentence, or for the database's refusals the
    driver's one line (not SQLAlchemy's statement and link), with what to do about it."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return str(error)
    said = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    if any(sign in said for sign in ("no such table", "no such column", "does not exist")):
        return f"the database is older than this perfplan ({said}): run `perfplan db upgrade`"
    return f"the database refused: {said}"


def _is_user_error(error: Exception) -> bool:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from models.errors import StorageError
    from notifications.errors import NotificationsError
    from people.errors import PeopleError
    from perfplan.errors import PerfplanError
    from states.errors import StatesError

    if isinstance(error, OperationalError | ProgrammingError | StorageError):
        return True  # an unreachable, locked, older or unknown database: say so, no traceback
    return isinstance(error, StatesError | PeopleError | PerfplanError | NotificationsError)
