"""The automation's keys (`system`, `operator`, `perfplan`) are nobody's: no person is
created under one, and a row that holds one anyway (a database from before they were
refused) is reached by no token, no password and no standing role."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, insert, select

from models.db import session_scope
from models.tables import API_TOKEN, CREDENTIAL, PERSON
from people import access, identity
from people.directory import add_person
from people.errors import InvalidInput, Unauthenticated
from people.orgaudit import Acting
from people.throttle import Door, Rules

NOW = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
TOKEN = identity.TOKEN_PREFIX + "x" * 43
PASSWORD = "correct horse battery"
TESTER = Acting("tester", "cli")


@pytest.mark.parametrize("key", ["system", "System", "OPERATOR", "perfplan"])
def test_no_one_is_added_under_a_key_the_automation_uses(engine: Engine, key: str) -> None:
    with session_scope(engine) as session, pytest.raises(InvalidInput, match="key"):
        add_person(session, key=key, name="Mallory", email="m@example.com", now=NOW, by=TESTER)
    with engine.connect() as conn:
        assert conn.execute(select(PERSON.c.key)).all() == []


@pytest.fixture
def legacy_system(engine: Engine) -> int:
    """A `system` person with a token and a password, written before they were refused."""
    with engine.begin() as conn:
        person_id = conn.execute(
            insert(PERSON)
            .values(key="system", name="Mallory", email="m@example.com", locale="en")
            .returning(PERSON.c.id)
        ).scalar_one()
        conn.execute(
            insert(API_TOKEN).values(
                person_id=person_id,
                name="old",
                prefix=TOKEN[:10],
                token_hash=identity.digest(TOKEN),
                created_at=NOW,
            )
        )
        hashed = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
        conn.execute(
            insert(CREDENTIAL).values(person_id=person_id, password_hash=hashed, changed_at=NOW)
        )
    return int(person_id)


def test_a_system_row_is_reached_by_no_token_and_no_password(
    engine: Engine, legacy_system: int
) -> None:
    with session_scope(engine) as session, pytest.raises(Unauthenticated):
        identity.authenticate_token(session, token=TOKEN, now=NOW)
    door = Door(account="system", address="203.0.113.5")
    with pytest.raises(Unauthenticated):
        identity.sign_in(
            lambda: session_scope(engine), door=door, password=PASSWORD, now=NOW, rules=Rules()
        )


def test_no_token_password_or_standing_role_is_given_to_the_automation(
    engine: Engine, legacy_system: int
) -> None:
    with session_scope(engine) as session:
        with pytest.raises(InvalidInput, match="perfplan's own automation"):
            identity.create_token(session, person="system", name="t", now=NOW, by=TESTER)
        with pytest.raises(InvalidInput, match="perfplan's own automation"):
            identity.set_password(session, person="system", password=PASSWORD, now=NOW, by=TESTER)
        with pytest.raises(InvalidInput, match="perfplan's own automation"):
            access.grant(session, person="system", role="hr", department=None, now=NOW, by=TESTER)
