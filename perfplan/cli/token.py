"""`perfplan token ...`: personal API tokens, shown once and kept only as a digest."""

from __future__ import annotations

from typing import Annotated

import typer

from models.limits import MAX_ID
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

app = typer.Typer(help="Personal API tokens (stored hashed, revocable).", no_args_is_help=True)


@app.command("create")
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
    from people.orgaudit import Acting

    with session() as active:
        issued = create_token(
            active,
            person=person,
            name=name,
            now=instant(now),
            by=Acting.cli(),
            expires_at=instant(expires) if expires else None,
        )
    if as_json:
        print_json({"id": issued.id, "token": issued.token, "prefix": issued.prefix})
        return
    console.print(f"Token {issued.id} for {person} (shown once, keep it safe):")
    typer.echo(issued.token)


@app.command("list")
def token_list(
    person: Annotated[str | None, typer.Option("--person", help="Only this person's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens, with their prefix, last use and whether they are revoked."""
    from people.identity import list_tokens

    with session() as active:
        rows = list_tokens(active, person=person)
    plain = [row._asdict() for row in rows]
    print_rows(plain, as_json, COLUMNS, lambda row: [str(row[k] or "") for k in FIELDS])


# What `token list` shows of each token: the columns, and the fields they show.
COLUMNS = ("id", "person", "name", "prefix", "created", "last used", "expires", "revoked")
FIELDS = (
    "id",
    "person",
    "name",
    "prefix",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
)


TokenId = Annotated[
    int, typer.Argument(min=1, max=MAX_ID, help="The token's id (see `token list`).")
]


@app.command("revoke")
def token_revoke(token_id: TokenId, now: NowOption = None) -> None:
    """Stop a token from working, at once."""
    from people.identity import revoke_token
    from people.orgaudit import Acting

    with session() as active:
        revoke_token(active, token_id=token_id, now=instant(now), by=Acting.cli())
    console.print(f"Token {token_id} revoked.")
