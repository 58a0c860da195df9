"""`perfplan demo`: Zhang's plan played through its whole life (`perfplan.demo`), and with
--web its pages (`perfplan.demo_web`)."""

from __future__ import annotations

from typing import Annotated

import typer

from perfplan.cli.common import NowOption, instant


def demo(
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Add the demo's people and plan to a database that holds plans already.",
        ),
    ] = False,
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Then serve the pages, with passwords for Zhang, Li, Wang and an auditor "
            "(printed: only for a database of the demo's own).",
        ),
    ] = False,
    host: Annotated[str, typer.Option("--host", help="With --web: address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="With --web: port to listen on.")] = 8000,
    now: NowOption = None,
) -> None:
    """Play Zhang's plan (docs/examples/zhang.yaml) through its whole life, with simulated
    time, on an empty database (PERFPLAN_DATABASE_URL)."""
    from perfplan.demo import run

    if web and force:  # known passwords only ever on people the demo itself added
        raise typer.BadParameter(
            "--web gives printed passwords, so only to a database the demo filled from "
            "empty: leave out --force",
            param_hint="--web",
        )
    plan_id = run(started_at=instant(now) if now else None, force=force)
    if not web:
        return
    from models.db import make_engine
    from perfplan.cli.common import database_url
    from perfplan.demo_web import open_the_doors, serve

    db = make_engine(database_url())
    try:
        open_the_doors(db, now=instant(None))
    finally:
        db.dispose()
    serve(host=host, port=port, plan_id=plan_id)
