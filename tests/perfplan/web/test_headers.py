"""Every answer carries the security headers: pages, the API, static files, refusals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from perfplan.web.app import SECURITY_HEADERS
from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import sign_in


def assert_secured(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get_list(name) == [value], (name, answer)


@pytest.mark.parametrize(
    "path",
    [
        "/api/health",
        "/static/perfplan.css",
        "/login",
        "/api/nowhere",
        "/api/plans",
        "/plans",
        "/api/plans/abc",
    ],
)
def test_answers_without_a_person_carry_the_security_headers(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code in (200, 303, 401, 404, 422), (path, answer.status_code)
    assert_secured(answer)


def test_a_person_s_pages_and_refusals_carry_them_once(client: TestClient, world: World) -> None:
    assert_secured(client.get(f"/api/plans/{world.zhang_plan}", headers=world.headers("li")))
    stranger = client.get(f"/api/plans/{world.liu_plan}", headers=world.headers("li"))
    assert stranger.status_code == 404
    assert_secured(stranger)
    sign_in(client, world, "li")
    assert_secured(client.get(f"/plans/{world.zhang_plan}"))
    missing = client.get(f"/plans/{world.liu_plan}")
    assert missing.status_code == 404
    assert_secured(missing)
    refused = client.post(f"/plans/{world.zhang_plan}/sign", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert_secured(refused)
