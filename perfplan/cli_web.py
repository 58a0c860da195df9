"""`perfplan web`, `perfplan token ...` and `perfplan people ...`: the HTTP front door,
personal API tokens, and the people directory with its standing roles and passwords."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from perfplan.common import JsonOption, NowOption, console, instant, print_json, session

tokens = typer.Typer(help="Personal API tokens (stored hashed, revocable).", no_args_is_help=True)
people = typer.Typer(
    help="People, their standing roles (hr, auditor, admin) and passwords.", no_args_is_help=True
)
Person = Annotated[str, typer.Argument(help="The person's key, e.g. li.")]


def web(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on.")] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Server processes (uvicorn workers); one per core."),
    ] = None,
) -> None:
    """Serve the JSON API (/api, OpenAPI at /openapi.json) and the pages."""
    import uvicorn

    from perfplan.web.settings import WebSettings

    settings = WebSettings()
    chosen_host, chosen_port = host or settings.host, port or settings.port
    processes = workers or settings.workers
    console.print(
        f"perfplan web on http://{chosen_host}:{chosen_port}/ (API docs: /api/docs), "
        f"{processes} worker{'s' if processes > 1 else ''}"
    )
    uvicorn.run(
        "perfplan.web.app:create_app",
        factory=True,
        host=chosen_host,
        port=chosen_port,
        workers=processes,
        log_level="warning",
    )


@tokens.command("create")
def token_create(
    person: Person,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
    expires: Annotated[
        str | None, typer.Option("--expires", help="When it stops working (ISO-8601).")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """A new token for PERSON; it is shown once, only its digest is kept."""
    from people.identity import create_token

    with session() as active:
        issued = create_token(
            active,
            person=person,
            name=name,
            now=instant(now),
            expires_at=instant(expires) if expires else None,
        )
    if as_json:
        print_json({"id": issued.id, "token": issued.token, "prefix": issued.prefix})
        return
    console.print(f"Token {issued.id} for {person} (shown once, keep it safe):")
    typer.echo(issued.token)


@tokens.command("list")
def token_list(
    person: Annotated[str | None, typer.Option("--person", help="Only this person's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens, with their prefix, last use and whether they are revoked."""
    from people.identity import list_tokens

    with session() as active:
        rows = list_tokens(active, person=person)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "person", "name", "prefix", "created", "last used", "expires", "revoked")
    for row in rows:
        table.add_row(
            *(
                str(row[k] or "")
                for k in (
                    "id",
                    "person",
                    "name",
                    "prefix",
                    "created_at",
                    "last_used_at",
                    "expires_at",
                    "revoked_at",
                )
            )
        )
    console.print(table)


@tokens.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`).")],
    now: NowOption = None,
) -> None:
    """Stop a token from working, at once."""
    from people.identity import revoke_token

    with session() as active:
        revoke_token(active, token_id=token_id, now=instant(now))
    console.print(f"Token {token_id} revoked.")


@people.command("add")
def people_add(
    key: Person,
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    email: Annotated[str, typer.Option("--email")],
    locale: Annotated[str, typer.Option("--locale", help="en or zh-CN.")] = "en",
    department: Annotated[str | None, typer.Option("--department")] = None,
) -> None:
    """Add someone who is on no plan yet (an auditor, an admin, an HR partner)."""
    from people.directory import add_person

    with session() as active:
        add_person(active, key=key, name=name, email=email, locale=locale, department=department)
    console.print(f"Added {key}.")


@people.command("list")
def people_list(as_json: JsonOption = False) -> None:
    """Everyone perfplan knows, with their standing roles."""
    from people.access import standing_roles
    from people.directory import list_people

    with session() as active:
        rows, roles = list_people(active), standing_roles(active)
    for row in rows:
        row["standing_roles"] = [
            f"{r['role']}" + (f" ({r['department']})" if r["department"] else "")
            for r in roles
            if r["person"] == row["key"]
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("key", "name", "email", "locale", "department", "standing roles")
    for row in rows:
        table.add_row(
            row["key"],
            row["name"],
            row["email"],
            row["locale"],
            row["department"] or "",
            ", ".join(row["standing_roles"]),
        )
    console.print(table)


Department = Annotated[
    str | None,
    typer.Option("--department", help="hr only: the department covered (default: all)."),
]
Role = Annotated[str, typer.Argument(help="hr, auditor or admin.")]


@people.command("grant")
def people_grant(
    person: Person, role: Role, department: Department = None, now: NowOption = None
) -> None:
    """Give PERSON a standing role: hr (for a department, or all), auditor or admin."""
    from people.access import grant

    by = os.environ.get("USER", "cli")
    with session() as active:
        added = grant(
            active, person=person, role=role, department=department, now=instant(now), by=by
        )
    scope = f" for {department}" if department else ""
    console.print(f"{person} is {role}{scope}" + ("." if added else " already."))


@people.command("revoke")
def people_revoke(person: Person, role: Role, department: Department = None) -> None:
    """Take a standing role away."""
    from people.access import revoke

    with session() as active:
        removed = revoke(active, person=person, role=role, department=department)
    console.print(f"{person}: {role} " + ("taken away." if removed else "was not held."))


@people.command("password")
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
        set_password(active, person=person, password=password, now=instant(now))
    console.print(f"Password of {person} set; their other sessions are signed out.")
