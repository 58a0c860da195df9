"""`perfplan token ...`: tokens shown once and kept hashed, working until revoked;
mistakes are one sentence and a distinct exit code."""

from __future__ import annotations

from datetime import datetime

import pytest

from models.clock import parse_instant
from models.db import make_engine, session_scope
from people import identity
from people.errors import Unauthenticated
from tests.conftest import Cli
from tests.perfplan.cli.support import zhangs_plan_on_drafting_day

__all__ = ["zhangs_plan_on_drafting_day"]  # the `cli` fixture of every test here


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
        with session_scope(engine) as session, pytest.raises(Unauthenticated):
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
