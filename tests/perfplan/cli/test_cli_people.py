"""`perfplan people ...`: people added, standing roles granted and revoked, passwords;
mistakes are one sentence and a distinct exit code."""

from __future__ import annotations

import pytest

from models import clock
from models.db import make_engine, session_scope
from people import identity
from people.throttle import Door, Rules
from tests.conftest import Cli
from tests.perfplan.cli.support import zhangs_plan_on_drafting_day

__all__ = ["zhangs_plan_on_drafting_day"]  # the `cli` fixture of every test here


def test_people_add_grant_and_list(cli: Cli) -> None:
    added = cli(
        "people",
        "add",
        "audrey",
        "--name",
        "Audrey Lin",
        "--email",
        "audrey@example.com",
        "--department",
        "Internal Audit",
    )
    assert added.code == 0, added.err
    assert cli("people", "grant", "audrey", "auditor").code == 0
    assert cli("people", "grant", "wang", "hr", "--department", "Sales East").code == 0
    assert "already" in cli("people", "grant", "wang", "hr", "--department", "Sales East").out
    people = cli("people", "list", "--json").json()
    assert isinstance(people, list)
    roles = {p["key"]: p["standing_roles"] for p in people}
    assert roles["audrey"] == ["auditor"]
    assert roles["wang"] == ["hr (Sales East)"]
    assert roles["zhang"] == []
    assert cli("people", "revoke", "audrey", "auditor").code == 0
    assert "was not held" in cli("people", "revoke", "audrey", "auditor").out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("people", "grant", "wang", "boss"), 2, "'boss' is not a standing role"),
        (
            ("people", "grant", "wang", "hr", "--department", "Marketing"),
            2,
            "no department named 'Marketing'",
        ),
        (("people", "grant", "nobody", "auditor"), 3, "no person with key 'nobody'"),
        (
            ("people", "add", "li", "--name", "Li", "--email", "li@example.com"),
            2,
            "a person with key 'li' exists already",
        ),
        (
            ("people", "add", "x y", "--name", "X", "--email", "x@example.com"),
            2,
            "is not a person's key",
        ),
        (
            ("people", "add", "xu", "--name", "Xu", "--email", "not-an-address"),
            2,
            "is not an email address",
        ),
    ],
)
def test_people_mistakes_are_one_sentence(
    cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(*args)
    assert result.code == code
    assert message in result.err


def test_a_password_from_the_environment_signs_in(
    cli: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LI_PASSWORD", "correct horse battery")
    assert cli("people", "password", "li", "--password-env", "LI_PASSWORD").code == 0
    engine = make_engine(db_url)
    try:
        viewer = identity.sign_in(
            lambda: session_scope(engine),
            door=Door(account="li", address="127.0.0.1"),
            password="correct horse battery",
            now=clock.now(),
            rules=Rules(),
        )
        assert viewer.key == "li"
    finally:
        engine.dispose()
    monkeypatch.setenv("SHORT", "short")
    short = cli("people", "password", "li", "--password-env", "SHORT")
    assert short.code == 2
    assert "at least 10 characters" in short.err
    assert cli("people", "password", "li", "--password-env", "UNSET_VARIABLE").code == 2
