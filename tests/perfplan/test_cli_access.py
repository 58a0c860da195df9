"""`perfplan token ...` and `perfplan people ...`: tokens shown once and kept hashed,
standing roles, passwords; mistakes are one sentence and a distinct exit code."""

from __future__ import annotations

from datetime import datetime

import pytest

from models.clock import parse_instant
from models.db import make_engine, session_scope
from people import identity
from tests.conftest import ZHANG_FILE, Cli, cli_runner


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str) -> Cli:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PERFPLAN_NOW", "2026-08-25T09:00")
    monkeypatch.setenv("COLUMNS", "200")
    run = cli_runner(capsys)
    assert run("init").code == 0
    assert run("plan", "create", str(ZHANG_FILE), "--as", "wang").code == 0
    return run


def test_a_token_works_until_it_is_revoked(cli: Cli, db_url: str) -> None:
    created = cli("token", "create", "li", "--name", "HRIS sync", "--json").json()
    assert isinstance(created, dict)
    token = created["token"]
    assert token.startswith("pp_")
    listed = cli("token", "list", "--json").json()
    assert isinstance(listed, list)
    assert [(t["person"], t["name"], t["prefix"]) for t in listed] == [
        ("li", "HRIS sync", token[:10])
    ]
    assert token not in cli("token", "list").out  # only the prefix is ever shown again
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            assert identity.authenticate_token(session, token=token, now=_now()).key == "li"
        assert cli("token", "revoke", str(created["id"])).code == 0
        with session_scope(engine) as session, pytest.raises(identity.Unauthenticated):
            identity.authenticate_token(session, token=token, now=_now())
    finally:
        engine.dispose()
    again = cli("token", "revoke", str(created["id"]))
    assert again.code == 3
    assert "no active API token" in again.err


def _now() -> datetime:
    return parse_instant("2026-08-25T09:00")


def test_a_token_for_an_unknown_person_is_refused(cli: Cli) -> None:
    result = cli("token", "create", "nobody")
    assert result.code == 3
    assert "no person with key 'nobody'" in result.err


def test_an_expiry_in_the_past_is_refused(cli: Cli) -> None:
    result = cli("token", "create", "li", "--expires", "2026-01-01")
    assert result.code == 2
    assert "the expiry must be in the future" in result.err


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
            "a person's key is letters",
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
        with session_scope(engine) as session:
            viewer = identity.check_password(session, person="li", password="correct horse battery")
        assert viewer.key == "li"
    finally:
        engine.dispose()
    monkeypatch.setenv("SHORT", "short")
    short = cli("people", "password", "li", "--password-env", "SHORT")
    assert short.code == 2
    assert "at least 10 characters" in short.err
    assert cli("people", "password", "li", "--password-env", "UNSET_VARIABLE").code == 2
