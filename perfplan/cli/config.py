"""`perfplan config ...`: check and draw the workflow definitions admins edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from perfplan.cli.common import JsonOption, console, print_json, session

app = typer.Typer(help="Check and draw workflow definitions.", no_args_is_help=True)


def _files(path: Path | None) -> list[Path]:
    from states.definitions.catalog import definition_files, search_path

    if path is None:
        return [
            f
            for directory in search_path()
            if directory.is_dir()
            for f in definition_files(directory)
        ]
    if path.is_dir():
        return definition_files(path)
    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")
    return [path]


@app.command("check")
def check(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A definition file or a directory; default: the built-in and admin definitions."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate definitions: every problem of every file, with code, place, fix. Exit 2 if any."""
    from states.definitions.catalog import load_file
    from states.errors import DefinitionInvalid

    results = []
    for file in _files(path):
        try:
            compiled = load_file(file)
            results.append(
                {
                    "file": str(file),
                    "ok": True,
                    "name": compiled.name,
                    "version": compiled.version,
                    "hash": compiled.hash,
                    "problems": [],
                }
            )
        except DefinitionInvalid as invalid:
            results.append(
                {"file": str(file), "ok": False, "problems": [p.__dict__ for p in invalid.problems]}
            )
    if as_json:
        print_json(results)
    else:
        for result in results:
            _print_result(result)
    if not results or not all(r["ok"] for r in results):
        raise typer.Exit(2)


def _print_result(result: dict[str, object]) -> None:
    if result["ok"]:
        console.print(
            Text.assemble(
                ("OK", "green"), f"    {result['file']} ({result['name']} v{result['version']})"
            )
        )
        return
    problems = result["problems"]
    assert isinstance(problems, list)
    console.print(Text.assemble(("FAIL", "red"), f"  {result['file']}: {len(problems)} problem(s)"))
    for p in problems:
        where = f"{p['path']}" + (f" (line {p['line']})" if p.get("line") else "")
        console.print(Text.assemble("      ", (p["code"], "bold"), f" at {where}: {p['message']}"))


@app.command("diagram")
def diagram(
    name: Annotated[str, typer.Argument(help="A definition's name, e.g. standard.")],
    highlight: Annotated[str | None, typer.Option("--highlight", help="A state to mark.")] = None,
    plan_id: Annotated[
        int | None,
        typer.Option(
            "--plan", help="Mark this plan's current state (and use its definition version)."
        ),
    ] = None,
    locale: Annotated[str, typer.Option("--locale", help="Labels in en or zh-CN.")] = "en",
) -> None:
    """Print the definition as a Mermaid state diagram."""
    from states.definitions import catalog
    from states.definitions.diagram import mermaid
    from states.engine.firing import load_plan

    definition = catalog.find(name)
    if plan_id is not None:
        with session() as active:
            plan = load_plan(active, plan_id)
            definition = catalog.by_hash(active, plan.definition_hash)
            highlight = plan.state
    if highlight and highlight not in definition.spec.states:
        raise typer.BadParameter(f"'{name}' has no state '{highlight}'", param_hint="--highlight")
    typer.echo(mermaid(definition, highlight=highlight, locale=locale), nl=False)


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The definitions perfplan can use (admin directory first, then built-ins)."""
    from states.definitions.catalog import load_file
    from states.errors import DefinitionInvalid

    rows = []
    for file in _files(None):
        try:
            c = load_file(file)
            rows.append({"name": c.name, "version": c.version, "file": str(file), "ok": True})
        except DefinitionInvalid:
            rows.append({"name": file.stem, "version": None, "file": str(file), "ok": False})
    if as_json:
        print_json(rows)
        return
    for row in rows:
        mark = ("OK  ", "green") if row["ok"] else ("FAIL", "red")
        console.print(Text.assemble(mark, f" {row['name']} v{row['version']}  {row['file']}"))
