"""`perfplan demo --web`: the demo's plan on the pages, for a newcomer who wants to see it
as Zhang, Li, Wang and an auditor do, with log-ins that are printed (and so known: only
ever on the database the demo has just filled)."""

from __future__ import annotations

import os
import sys
from datetime import datetime

from rich.table import Table
from sqlalchemy import Engine

from models.db import session_scope
from people.access import grant
from people.directory import add_person, list_people
from people.identity import set_password
from people.orgaudit import Acting
from perfplan.cli.common import console

# (key, who they are in the story), in the order a newcomer tries them.
LOGINS = (
    ("zhang", "the employee: his own plan only"),
    ("li", "his manager: his team's plans"),
    ("wang", "HR for Sales East: the overdue dashboard"),
    ("audrey", "an auditor: every plan, the search, verify and export; changes nothing"),
)
AUDITOR = {"key": "audrey", "name": "Audrey Lin", "email": "audrey@example.com"}

DEMO = Acting("demo", "cli")


def password_of(key: str) -> str:
    """The demo's password of a person: their key and the product's name."""
    return f"{key}-perfplan"


def open_the_doors(db: Engine, *, now: datetime) -> None:
    """The auditor, Wang's standing HR role for Sales East, and everyone's password."""
    with session_scope(db) as session:
        if AUDITOR["key"] not in {person.key for person in list_people(session)}:
            add_person(session, **AUDITOR, now=now, by=DEMO)
        grant(session, person="audrey", role="auditor", department=None, now=now, by=DEMO)
        grant(session, person="wang", role="hr", department="Sales East", now=now, by=DEMO)
        for key, _ in LOGINS:
            set_password(session, person=key, password=password_of(key), now=now, by=DEMO)


def serve(*, host: str, port: int, plan_id: int) -> None:
    """Print where the pages are and who may sign in, then become `perfplan web` (a fresh
    process image: nothing of the demo's Prefect stays behind) until Ctrl-C."""
    address = f"http://{host}:{port}/"
    logins = Table("log in as", "password", "who", title=f"The demo's pages: {address}")
    for key, who in LOGINS:
        logins.add_row(key, password_of(key), who)
    console.print(logins)
    console.print(
        f"Zhang's plan: {address}plans/{plan_id}  ·  the JSON API's documentation: "
        f"{address}api/docs  ·  Ctrl-C stops the server.",
        soft_wrap=True,
    )
    sys.stdout.flush()
    _stop_temporary_prefect()
    command = ["-m", "perfplan.cli", "web", "--host", host, "--port", str(port)]
    os.execv(sys.executable, [sys.executable, *command])


def _stop_temporary_prefect() -> None:
    """The demo's flows ran on a temporary Prefect server, a child process that Prefect
    stops when this process exits, which `exec` skips: stop it first, or it would outlive
    the demo (holding its output open)."""
    if "prefect" not in sys.modules:
        return
    from prefect.server.api.server import SubprocessASGIServer

    SubprocessASGIServer().stop()
