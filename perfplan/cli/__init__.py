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
    simulate  simulate PLAN: its life on a throwaway database, nothing sent

Heavy imports (SQLAlchemy, the services, Prefect) happen inside commands, so
`perfplan --help` starts fast.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
import typer.main
from rich.text import Text
from typer.core import TyperGroup

from perfplan.cli import (
    audit,
    config,
    db,
    demo,
    flows,
    helptext,
    notify,
    people,
    plan,
    report,
    simulate,
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
# In the order a newcomer needs them: start, plans and people, the record, running it,
# then administration (Typer would list the command groups after the commands).
_PANELS: dict[str, list[tuple[str, Any]]] = {
    "Start here": [("init", db.init), ("demo", demo.demo)],
    "Plans and people": [("plan", plan.app), ("people", people.app)],
    "The record": [("report", report.report), ("audit", audit.app)],
    "Running it": [
        ("web", web.web),
        ("status", status.status),
        ("sweep", flows.sweep),
        ("dispatch", flows.dispatch),
        ("serve", flows.serve),
    ],
    "Administration": [
        ("notify", notify.app),
        ("token", token.app),
        ("config", config.app),
        ("simulate", simulate.simulate),
        ("db", db.app),
    ],
}
for _panel, _commands in _PANELS.items():
    for _name, _thing in _commands:
        if isinstance(_thing, typer.Typer):
            app.add_typer(_thing, name=_name, rich_help_panel=_panel)
        else:
            app.command(_name, rich_help_panel=_panel)(_thing)


def command() -> TyperGroup:
    """The `perfplan` command tree, in the newcomer's order, with help they can read."""
    tree = typer.main.get_command(app)
    assert isinstance(tree, TyperGroup)
    tree.commands = {name: tree.commands[name] for c in _PANELS.values() for name, _ in c}
    helptext.readable(tree)
    return tree


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one clear sentence and a non-zero exit."""
    from perfplan.errors import AuditBroken, exit_code

    try:
        command()(args=argv, prog_name="perfplan")
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
