"""Migrations build the schema the models describe, on SQLite and PostgreSQL,
and the database itself keeps the audit trail append-only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from models import migrate
from models.clock import FrozenClock
from models.db import make_engine, session_scope
from models.privileges import grant_app_role
from notifications.ledger.delivery import DeliveryPolicy, claim_due
from notifications.rendering import Renderer
from states.engine import signing
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.postgres import PostgresFactory


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresFactory]:
    factory = PostgresFactory()
    yield factory
    factory.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: PostgresFactory
) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'm.db'}" if request.param == "sqlite" else postgres.empty()
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrations_and_models_agree(empty_engine: Engine) -> None:
    assert migrate.current(empty_engine) is None
    migrate.upgrade(empty_engine)
    assert migrate.current(empty_engine) == migrate.head()
    assert _differences(empty_engine) == []


def test_downgrade_to_base_and_up_again(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    config = migrate.alembic_config(empty_engine)
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert migrate.current(empty_engine) is None
    migrate.upgrade(empty_engine)
    assert _differences(empty_engine) == []


def test_migrated_database_refuses_to_change_audit_records(
    empty_engine: Engine, zhang_doc: object, clock: object
) -> None:
    migrate.upgrade(empty_engine)
    with session_scope(empty_engine) as session:
        create_plan(session=session, document=zhang_doc, actor="wang", now=clock())  # type: ignore[arg-type, operator]
    for statement in ("UPDATE audit_record SET comment = 'forged'", "DELETE FROM audit_record"):
        with pytest.raises(DBAPIError, match="append-only"), empty_engine.begin() as connection:
            connection.execute(text(statement))
    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_record")).scalar() == 1


def test_app_role_cannot_change_history_even_without_the_trigger(
    postgres: PostgresFactory, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    owner = make_engine(postgres.fresh())
    role = f"perfplan_app_{postgres.run}"
    try:
        statements = grant_app_role(owner, role)
        assert any("REVOKE UPDATE, DELETE, TRUNCATE" in s for s in statements)
        with owner.begin() as connection:
            connection.execute(text("ALTER TABLE audit_record DISABLE TRIGGER USER"))
        app = make_engine(owner.url.set(username=role).render_as_string(hide_password=False))
        try:
            with session_scope(app) as session:  # the application works as usual ...
                plan_id = create_plan(
                    session=session, document=zhang_doc, actor="wang", now=clock()
                )
                signing.sign(session=session, plan_id=plan_id, actor="zhang", now=clock())
            with pytest.raises(DBAPIError, match="permission denied"), app.begin() as c:
                c.execute(text("UPDATE audit_record SET comment = 'forged'"))
            with pytest.raises(DBAPIError, match="permission denied"), app.begin() as c:
                c.execute(text("DELETE FROM audit_record"))
        finally:
            app.dispose()
    finally:
        owner.dispose()
        postgres.drop(str(owner.url.render_as_string(hide_password=False)))
        with postgres.admin.cursor() as cursor:
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_messages_recorded_before_0005_are_sent_as_stored(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0004")
    with empty_engine.begin() as connection:  # a message rendered when it was recorded
        connection.execute(
            text(
                "INSERT INTO person (id, key, name, email, locale) "
                "VALUES (1, 'li', 'Li Wei', 'li@example.com', 'en')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO notification (dedup_key, person_id, role, kind, channel, locale, "
                "address, recipient_name, subject, body_text, body_html, link, message_id, status, "
                "attempts, created_at, next_attempt_at, claimed_by, last_error) VALUES ('k', 1, "
                "'manager', 'plan_agreed', 'outbox', 'en', 'li@example.com', 'Li Wei', 'Agreed', "
                "'text', '<p>html</p>', '', '<m@x>', 'queued', 0, '2026-09-01 09:00:00', "
                "'2026-09-01 09:00:00', '', '')"
            )
        )
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM notification")).mappings().one()
    assert row["rendered_at"] is not None and row["context"] is None
    claim = claim_due(
        empty_engine,
        now=datetime(2026, 9, 2, tzinfo=UTC),
        policy=DeliveryPolicy(),
        renderer=Renderer.build(),
    )
    assert claim.unrenderable == []  # not a dead letter for want of a context
    assert [(m.subject, m.text, m.html) for m in claim.messages] == [
        ("Agreed", "text", "<p>html</p>")
    ]
