"""Helpers of the API tests: moving Zhang's plan along through the API itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.perfplan.web.conftest import World


def call(client: TestClient, world: World, who: str, method: str, url: str, **kwargs: Any) -> Any:
    """One request as `who`; returns the response (tests assert on the status)."""
    headers = {**world.headers(who), **kwargs.pop("headers", {})}
    return client.request(method, url, headers=headers, **kwargs)


def ok(client: TestClient, world: World, who: str, method: str, url: str, **kwargs: Any) -> Any:
    answer = call(client, world, who, method, url, **kwargs)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def sign_off(client: TestClient, world: World, plan: int | None = None) -> None:
    """Zhang, then Li and Wang sign Zhang's plan: it is agreed."""
    plan = plan or world.zhang_plan
    for person in ("zhang", "li", "wang"):
        ok(client, world, person, "POST", f"/api/plans/{plan}/signatures", json={})


def start(client: TestClient, world: World) -> None:
    """Agreed, then started by Li on the first day of its period (1 Sep 2026)."""
    sign_off(client, world)
    world.clock.advance(days=7)
    ok(client, world, "li", "POST", f"/api/plans/{world.zhang_plan}/events/start", json={})


def state_of(client: TestClient, world: World, plan: int | None = None) -> str:
    detail = ok(client, world, "wang", "GET", f"/api/plans/{plan or world.zhang_plan}")
    return str(detail["plan"]["state"])


@pytest.fixture(autouse=True)
def output_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages and reports that changes produce land in the test's own folder."""
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PERFPLAN_REPORTS_DIR", str(tmp_path / "reports"))
