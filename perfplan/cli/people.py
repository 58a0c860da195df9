"""`perfplan people ...`: the people directory, standing roles and passwords, and the
organisation imported from the HR system's CSV file."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from perfplan.cli.common import (
    JsonOption,
    NowOption,
    Person,
    console,
    instant,
    print_json,
    print_rows,
    session,
)

if TYPE_CHECKING:
    from states.intake.people import Intake

app = typer.Typer(
    help="People, their standing roles (hr, auditor, admin) and passwords.", no_args_is_help=True
)


@app.command("add")
def people_add(
    key: Person,
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    email: Annotated[str, typer.Option("--email")],
    locale: Annotated[str, typer.Option("--locale", help="en or zh-CN.")] = "en",
    department: Annotated[str | None, typer.Option("--department")] = None,
    now: NowOption = None,
) -> None:
    """Add someone who is on no plan yet (an auditor, an admin, an HR partner)."""
    from people.directory import add_person
    from people.orgaudit import Acting

    with session() as active:
        add_person(
            active,
            key=key,
            name=name,
            email=email,
            now=instant(now),
            by=Acting.cli(),
            locale=locale,
            department=department,
        )
    console.print(f"Added {key}.")


@app.command("list")
def people_list(as_json: JsonOption = False) -> None:
    """Everyone perfplan knows, with their standing roles."""
    from people.access import standing_roles
    from people.directory import list_people

    with session() as active:
        people, roles = list_people(active), standing_roles(active)
    rows = [
        {
            **person._asdict(),
            "standing_roles": [
                r.role + (f" ({r.department})" if r.department else "")
                for r in roles
                if r.person == person.key
            ],
        }
        for person in people
    ]
    columns = ("key", "name", "email", "locale", "department", "standing roles")
    print_rows(rows, as_json, columns, _person_cells)


def _person_cells(row: dict[str, Any]) -> list[str]:
    held = ", ".join(row["standing_roles"])
    return [row["key"], row["name"], row["email"], row["locale"], row["department"] or "", held]


Department = Annotated[
    str | None,
    typer.Option("--department", help="hr only: the department covered (default: all)."),
]
Role = Annotated[str, typer.Argument(help="hr, auditor or admin.")]


def _change_role(
    change: Callable[..., bool], person: str, role: str, department: str | None, now: str | None
) -> bool:
    """Grant or revoke (`change`) a standing role, as whoever runs the command."""
    from people.orgaudit import Acting

    by = Acting.cli()
    with session() as active:
        return change(
            active, person=person, role=role, department=department, now=instant(now), by=by
        )


@app.command("grant")
def people_grant(
    person: Person, role: Role, department: Department = None, now: NowOption = None
) -> None:
    """Give PERSON a standing role: hr (for a department, or all), auditor or admin."""
    from people.access import grant

    added = _change_role(grant, person, role, department, now)
    scope = f" for {department}" if department else ""
    console.print(f"{person} is {role}{scope}" + ("." if added else " already."))


@app.command("revoke")
def people_revoke(
    person: Person, role: Role, department: Department = None, now: NowOption = None
) -> None:
    """Take a standing role away."""
    from people.access import revoke

    removed = _change_role(revoke, person, role, department, now)
    console.print(f"{person}: {role} " + ("taken away." if removed else "was not held."))


@app.command("password")
def people_password(
    person: Person,
    from_env: Annotated[
        str | None,
        typer.Option("--password-env", help="Read it from this environment variable."),
    ] = None,
    now: NowOption = None,
) -> None:
    """Set PERSON's password for the pages (asked for, or from --password-env / stdin)."""
    from people.identity import set_password
    from people.orgaudit import Acting

    if from_env:
        password = os.environ.get(from_env, "")
        if not password:
            raise typer.BadParameter(
                f"${from_env} is empty or not set", param_hint="--password-env"
            )
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    with session() as active:
        set_password(active, person=person, password=password, now=instant(now), by=Acting.cli())
    console.print(f"Password of {person} set; their other sessions are signed out.")


CsvFile = Annotated[
    Path,
    typer.Argument(
        help="The CSV file, UTF-8, with a header: key,name,email,locale,department,manager,"
        "head_of (docs/people-import.md).",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


@app.command("import")
def people_import(
    file: CsvFile,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would change; write nothing.")
    ] = False,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import people, departments, managers, heads and locales from the HR system's CSV
    file: run twice, the second run changes nothing. A file with any bad row is refused
    whole (every problem by row and column); every change is recorded in the
    organisation chain, in one transaction."""
    from people.orgaudit import Acting
    from states.intake.people import import_people

    with session() as active:
        intake = import_people(
            active,
            file.read_bytes(),
            source=file.name,
            now=instant(now),
            by=Acting.cli(),
            dry_run=dry_run,
        )
    if as_json:
        print_json(_intake_json(intake))
        return
    console.print(_intake_summary(intake, dry_run), soft_wrap=True)
    if dry_run and intake.changes:
        typer.echo("\n".join(f"  {change}" for change in intake.changes))


def _intake_json(intake: Intake) -> dict[str, Any]:
    return {
        "source": intake.source,
        "rows": intake.rows,
        "written": intake.written,
        "digest": intake.digest,
        "changes": [change.__dict__ for change in intake.changes],
    }


def _intake_summary(intake: Intake, dry_run: bool) -> str:
    """One line: what the file changes (or would), counted by kind of change."""
    rows = f"{intake.source} ({intake.rows} rows)"
    if not intake.changes:
        return f"{rows}: nothing to change, perfplan already holds what the file says."
    counted = Counter(change.label for change in intake.changes)
    told = ", ".join(f"{number} × {label}" for label, number in counted.items())
    if dry_run:
        return f"Dry run of {rows}, nothing written: {len(intake.changes)} changes ({told}):"
    return (
        f"Imported {rows}: {len(intake.changes)} changes ({told}), "
        "each recorded in the organisation chain."
    )


feed = typer.Typer(
    help="A person's private calendar feed (an ICS address for their calendar).",
    no_args_is_help=True,
)
app.add_typer(feed, name="feed")


@feed.command("create")
def feed_create(key: Person, now: NowOption = None, as_json: JsonOption = False) -> None:
    """Make the person a new feed address (the old one stops working); shown only now."""
    from people import feeds
    from people.access import load_viewer
    from workflows.messages import config

    with session() as active:
        person = load_viewer(active, key=key)
        token = feeds.create(active, person_id=person.id, now=instant(now))
    url = f"{config().renderer.base_url}/calendar/{token}.ics"
    if as_json:
        print_json({"person": key, "url": url})
        return
    console.print(f"Calendar feed of {key} (keep it secret; shown only now):")
    console.print(url, soft_wrap=True, highlight=False)


@feed.command("revoke")
def feed_revoke(key: Person, now: NowOption = None) -> None:
    """End the person's feed address: calendars that read it get nothing more."""
    from people import feeds
    from people.access import load_viewer

    with session() as active:
        person = load_viewer(active, key=key)
        ended = feeds.revoke(active, person_id=person.id, now=instant(now))
    console.print(f"Revoked the calendar feed of {key}." if ended else f"{key} had no feed.")
