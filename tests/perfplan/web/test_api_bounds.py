"""The API holds the bounds the plan document and the activities declare
(`states.plans.bounds`): no NaN or infinity, no number as a day, no plan larger than a
plan may be; each refusal is a 422 naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ZHANG_FILE
from tests.perfplan.web.api_support import call, start
from tests.perfplan.web.conftest import World


def _fields(answer: Any) -> str:
    assert answer.status_code == 422, answer.text
    return answer.text


@pytest.mark.parametrize(
    "url",
    ["/api/audit?since=0", "/api/audit?until=20260901", "/api/plans?period_from=0"],
)
def test_a_number_is_not_a_day_in_a_query(client: TestClient, world: World, url: str) -> None:
    assert "YYYY-MM-DD" in _fields(call(client, world, "audrey", "GET", url))


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e300", "true"])
def test_a_measurement_is_a_finite_number(client: TestClient, world: World, value: str) -> None:
    start(client, world)
    body = f'{{"goal": "training", "value": {value}, "measured_on": "2026-09-01"}}'

    answer = call(
        client,
        world,
        "li",
        "POST",
        f"/api/plans/{world.zhang_plan}/measurements",
        content=body,
        headers={"content-type": "application/json"},
    )

    assert "value" in _fields(answer)
    detail = call(client, world, "li", "GET", f"/api/plans/{world.zhang_plan}").json()
    assert all(goal["actual"] is None for goal in detail["goals"])


def test_a_measured_day_is_not_a_number(client: TestClient, world: World) -> None:
    start(client, world)
    body = {"goal": "training", "value": 80, "measured_on": 0}

    answer = call(
        client, world, "li", "POST", f"/api/plans/{world.zhang_plan}/measurements", json=body
    )

    assert "measured_on" in _fields(answer)


def test_a_plan_document_with_an_infinite_target_opens_nothing(
    client: TestClient, world: World
) -> None:
    text = ZHANG_FILE.read_text(encoding="utf-8")
    first_target = next(line for line in text.splitlines() if "target:" in line)
    infinite = text.replace(first_target, first_target.split("target:")[0] + "target: .inf")
    before = call(client, world, "audrey", "GET", "/api/plans").json()

    answer = call(
        client,
        world,
        "wang",
        "POST",
        "/api/plans",
        content=infinite.encode(),
        headers={"content-type": "application/yaml"},
    )

    assert "goals.0.target" in _fields(answer)
    assert call(client, world, "audrey", "GET", "/api/plans").json() == before
