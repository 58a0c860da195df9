"""What every command shares: the options of several commands (the clock, --json, who
acts), the session, how answers are printed, and performing a plan activity."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

# Nothing printed is read as Rich markup: what people typed (a title, a name, an error
# quoting them) is shown as typed; the commands style their own words with `Text`.
console = Console(markup=False, highlight=False)
errors = Console(stderr=True, markup=False, highlight=False)

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        envvar="PERFPLAN_NOW",
        help="Act as if it were this instant (ISO-8601, e.g. 2026-09-01T09:00); replays a life.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ActorOption = Annotated[
    str, typer.Option("--as", help="Who acts: a person's key, e.g. li.", show_default=False)
]
Person = Annotated[str, typer.Argument(help="The person's key, e.g. li.")]


def instant(now: str | None) -> datetime:
    """The --now option as a UTC instant, or the clock's now."""
    from models import clock

    if not now:
        return clock.now()
    try:
        return clock.parse_instant(now)
    except ValueError as exc:
        raise typer.BadParameter(
            f"'{now}' is not an ISO-8601 date or time", param_hint="--now"
        ) from exc


def database_url() -> str:
    from models.db import DatabaseSettings

    return DatabaseSettings().database_url


def existing_database_url() -> str:
    """PERFPLAN_DATABASE_URL, for a command that must not create the database: a SQLite
    file that does not exist is refused (connecting would leave an empty one behind)."""
    from models.db import sqlite_file
    from perfplan.errors import NoDatabaseFile

    url = database_url()
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise NoDatabaseFile(url, str(file))
    return url


_ENGINES: dict[str, Engine] = {}


def engine() -> Engine:
    """The command's engine on PERFPLAN_DATABASE_URL, which must exist: one for its change
    and the effects that follow it (`main` disposes of it when the command ends)."""
    from models.db import make_engine

    url = existing_database_url()
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    return _ENGINES[url]


def dispose_engines() -> None:
    for built in _ENGINES.values():
        built.dispose()
    _ENGINES.clear()


@contextmanager
def session() -> Iterator[Session]:
    """A session on PERFPLAN_DATABASE_URL that commits when the command succeeds."""
    from models.db import schema_exists, session_scope
    from perfplan.errors import NotInitialised

    database = engine()
    if not schema_exists(database):
        raise NotInitialised(database_url())
    with session_scope(database) as active:
        yield active


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, default=_plain, ensure_ascii=False, indent=2))


def print_answer(data: Any, as_json: bool, line: str | Text) -> None:
    """What a command answers: `data` as JSON with --json, else a line to read."""
    if as_json:
        print_json(data)
    else:
        console.print(line)


def print_rows(
    rows: list[dict[str, Any]],
    as_json: bool,
    columns: Sequence[str],
    cells: Callable[[dict[str, Any]], Sequence[str | Text]],
) -> None:
    """Rows as JSON with --json, else as a table: `columns` its header, `cells` a row's."""
    if as_json:
        print_json(rows)
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*cells(row))
    console.print(table)


def dispatch_after_commit(plan_id: int, now: datetime) -> None:
    """Carry out the plan's outbox rows now that the change has committed
    (`workflows.dispatch.after_commit`, on the command's engine). If they cannot be
    carried out now, the command still succeeds (its change is stored) and says so."""
    from workflows import dispatch

    left = dispatch.after_commit(engine(), plan_id, now)
    if left is not None:
        errors.print(
            f"The change is stored; its follow-ups are left to the dispatcher "
            f"(perfplan dispatch, or the next cron run): {left}"
        )


def perform(
    activity: str,
    plan_id: int,
    actor: str,
    now: str | None,
    *,
    expect_version: int | None = None,
    **fields: Any,
) -> Any:
    """Perform a plan activity (`perfplan.activities`) as the API and the pages do: its
    inputs (`event=`, `milestone=` among them for an activity that takes one) checked
    against the activity's model (a refusal is one sentence and exit 2), its service
    called in one transaction, a transition's effects carried out after the commit.
    Returns what the service answered."""
    from perfplan.activities import ACTIVITIES, Act

    chosen = ACTIVITIES[activity]
    key = fields.pop(chosen.key) if chosen.key else None
    body = chosen.parse(fields, key=key)
    if expect_version is not None:
        # The plan itself checks it: a version it is not at (0 too) is a conflict, exit 6.
        body = body.model_copy(update={"expected_version": expect_version})
    moment = instant(now)
    with session() as active:
        done = chosen.perform(active, Act(plan_id, actor, moment, key), body)
    if chosen.fires:
        dispatch_after_commit(plan_id, moment)
    return done
