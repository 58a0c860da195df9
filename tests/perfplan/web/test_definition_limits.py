"""Huge numbers in a definition are one clear problem at every door that checks one: the
admin page (422), the API's check (a check that ran: valid false) and its install (422),
never a 500 from an overflowing duration or an integer no database column holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from models.db import session_scope
from models.tables import DEFINITION_VERSION
from states.definitions.catalog import BUILTIN_DIR
from tests.perfplan.web.api_support import call, ok
from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import sign_in

STANDARD = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")
YAML = {"Content-Type": "application/yaml"}
HUGE = (
    STANDARD.replace("version: 1", "version: 99999999999999")
    .replace("signature_pending: 2 business days", "signature_pending: 99999999999999 days")
    .replace("after: 7 business days", "after: 999999999 business days")
)

DURATIONS = HUGE.replace("version: 99999999999999", "version: 2")  # past the schema


def test_the_admin_page_says_what_is_too_large_and_installs_nothing(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "adam")

    for text, said in (
        (HUGE, "TOO_LARGE"),
        (DURATIONS, "DURATION_TOO_LONG"),
        (DURATIONS, "longer than any plan runs"),
    ):
        answer = client.post("/admin/definitions/check", data={"csrf_token": csrf, "source": text})
        assert answer.status_code == 422
        assert said in answer.text
    with session_scope(world.engine) as session:
        assert len(session.execute(select(DEFINITION_VERSION)).all()) == 1


def test_the_api_checks_and_refuses_huge_values_with_their_codes(
    client: TestClient, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(definitions))
    checked = ok(
        client, world, "adam", "POST", "/api/definitions/check", content=HUGE, headers=YAML
    )

    assert checked["valid"] is False
    assert sorted(p["code"] for p in checked["problems"]) == ["TOO_LARGE"]  # the schema first
    checked = ok(
        client, world, "adam", "POST", "/api/definitions/check", content=DURATIONS, headers=YAML
    )
    assert [(p["code"], p["path"]) for p in checked["problems"]] == [
        ("DURATION_TOO_LONG", "timers.signature_pending"),
        ("DURATION_TOO_LONG", "timers.escalation.milestone_overdue[2].after"),
    ]
    for text in (HUGE, DURATIONS):
        refused = call(
            client, world, "adam", "POST", "/api/definitions", content=text, headers=YAML
        )
        assert refused.status_code == 422
        assert "at most" in str(refused.json())
    assert list(definitions.iterdir()) == []
