"""`perfplan people feed create|revoke PERSON`: the feed address shown once, a new one
ending the old, revoking it; an unknown person is one sentence and exit 3."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from models.db import session_scope
from people import feeds
from tests.conftest import Cli
from tests.perfplan.cli.support import zhangs_plan_on_drafting_day

__all__ = ["zhangs_plan_on_drafting_day"]  # the `cli` fixture of every test here

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _token(url: str) -> str:
    assert url.startswith("http://localhost:8000/calendar/") and url.endswith(".ics"), url
    return url.removeprefix("http://localhost:8000/calendar/").removesuffix(".ics")


def test_create_renew_and_revoke_a_feed(cli: Cli, db_url: str) -> None:
    first = cli("people", "feed", "create", "zhang", "--json")
    assert first.code == 0, first.err
    second = cli("people", "feed", "create", "zhang", "--json").json()
    assert "keep it secret" in cli("people", "feed", "create", "li").out
    engine = create_engine(db_url)
    with session_scope(engine) as session:
        assert feeds.owner(session, _token(first.json()["url"])) is None  # renewed: ended
        zhang = feeds.owner(session, _token(second["url"]))
        assert zhang is not None
    assert "Revoked" in cli("people", "feed", "revoke", "zhang").out
    assert "had no feed" in cli("people", "feed", "revoke", "zhang").out
    with session_scope(engine) as session:
        assert feeds.owner(session, _token(second["url"])) is None
    engine.dispose()


def test_an_unknown_person_has_no_feed(cli: Cli) -> None:
    refused = cli("people", "feed", "create", "nobody")
    assert refused.code == 3 and "nobody" in refused.err and "Traceback" not in refused.err
