"""`perfplan simulate`: a plan's life on a throwaway database, before anyone is asked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfplan.cli.common import JsonOption, console, print_json

PlanFile = Annotated[
    Path, typer.Argument(help="The plan document (YAML or JSON), as `plan create` reads it.")
]
DefinitionFile = Annotated[
    Path | None,
    typer.Option(
        "--definition",
        help="Play it on this definition file instead of the installed one (checked first).",
        show_default=False,
    ),
]
EventsFile = Annotated[
    Path | None,
    typer.Option(
        "--events",
        help="YAML: who does what when (docs/simulate.md); default: everyone on time.",
        show_default=False,
    ),
]
Days = Annotated[
    int | None,
    typer.Option(
        "--days",
        help="How many days to play; default: through the evaluation.",
        show_default=False,
    ),
]
Locale = Annotated[str, typer.Option("--locale", help="The table's words: en or zh-CN.")]


def simulate(
    plan_file: PlanFile,
    definition: DefinitionFile = None,
    events: EventsFile = None,
    days: Days = None,
    locale: Locale = "en",
    as_json: JsonOption = False,
) -> None:
    """Play a plan day by day with the real sweep on a throwaway database: every reminder,
    escalation rung, due date and holiday. Nothing is sent; your database is not opened."""
    from perfplan.simulation.runner import Request
    from perfplan.simulation.runner import simulate as play
    from perfplan.simulation.timeline import table

    timeline = play(Request(plan_file, definition, events, days))
    if as_json:
        print_json(timeline.as_json())
    else:
        console.print(table(timeline, locale), soft_wrap=True)
