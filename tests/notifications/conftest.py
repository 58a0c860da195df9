"""Fixtures for the voice room: real SMTP and HTTP servers on loopback, and
the people of Zhang's plan as recipients (the servers live in support.py)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine, Row, select
from sqlmodel import Session

from models.clock import FrozenClock
from models.db import make_engine, session_scope
from models.tables import PERSON, PLAN_ROLE
from notifications.config import NotificationConfig
from notifications.ledger.recording import Queued
from notifications.message import Recipient
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.notifications.support import (
    HttpServer,
    Inbox,
    Record,
    Shared,
    SmtpServer,
    TlsSmtpServer,
    enqueue_sample,
    free_port,
    self_signed,
)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def tls_smtp_server(tmp_path: Path) -> Iterator[TlsSmtpServer]:
    """STARTTLS required, and AUTH (only over TLS) as perfplan / s3cret."""
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    inbox = Inbox()
    logins: list[str] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"perfplan",
            b"s3cret",
        )
        if ok:
            logins.append(data.login.decode())
        # handled=False: aiosmtpd itself answers 535 to a refused login.
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield TlsSmtpServer("127.0.0.1", controller.port, inbox, ca_file=cert_file, logins=logins)
    finally:
        controller.stop()


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    server = HttpServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def people(engine: Engine, zhang_plan: int) -> dict[str, Recipient]:
    """Zhang's plan's people as recipients, in their role on the plan."""
    with session_scope(engine) as session:
        recipients = _plan_recipients(session, zhang_plan)
        sun = session.execute(select(PERSON).where(PERSON.c.key == "sun")).one()
    recipients["sun"] = _recipient(sun, "department_head")
    return recipients


def _plan_recipients(session: Session, plan_id: int) -> dict[str, Recipient]:
    rows = session.execute(
        select(
            PERSON.c.id,
            PERSON.c.key,
            PERSON.c.name,
            PERSON.c.email,
            PERSON.c.locale,
            PLAN_ROLE.c.role,
        )
        .join(PLAN_ROLE, PLAN_ROLE.c.person_id == PERSON.c.id)
        .where(PLAN_ROLE.c.plan_id == plan_id)
    ).all()
    return {row.key: _recipient(row, row.role) for row in rows}


def _recipient(person: Row[Any], role: str) -> Recipient:
    return Recipient(
        person_id=person.id,
        role=role,
        name=person.name,
        email=person.email,
        locale=person.locale,
        key=person.key,
    )


@pytest.fixture
def frozen(clock: FrozenClock) -> FrozenClock:
    """The test clock set to a working morning during Zhang's plan."""
    clock.set(datetime(2026, 10, 12, 9, 0, tzinfo=UTC))
    return clock


@pytest.fixture
def record(engine: Engine, zhang_plan: int, frozen: FrozenClock) -> Record:
    """Records a kind for a recipient on Zhang's plan, with a sample context, at the
    frozen clock's time: `record(config, kind="plan_started", recipient=people["li"])`."""

    def record(
        config: NotificationConfig, *, kind: str, recipient: Recipient, **options: Any
    ) -> list[Queued]:
        return enqueue_sample(
            engine,
            config,
            kind=kind,
            recipient=recipient,
            plan_id=zhang_plan,
            now=frozen(),
            **options,
        )

    return record


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    zhang_doc: PlanDocument,
    clock: FrozenClock,
) -> Iterator[Shared]:
    """One database that several workers open on their own, SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        from models.db import create_schema

        url = f"sqlite:///{tmp_path / 'shared.db'}"
        setup = make_engine(url)
        create_schema(setup)
    else:
        url = request.getfixturevalue("postgres").fresh()
        setup = make_engine(url)
    with session_scope(setup) as session:
        plan_id = create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
        people = _plan_recipients(session, plan_id)
    setup.dispose()
    yield Shared(url, plan_id, people)
