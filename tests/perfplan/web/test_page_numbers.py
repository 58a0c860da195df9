"""A page number or an id too large to store, or a digit that is not 0-9, is a clear
refusal (a 422 naming the field, or the 404 of a plan that is nobody's), never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import sign_in

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("path", "who"),
    [
        (f"/plans?page={HUGE}", "wang"),
        (f"/plans?scope=all&page={HUGE}", "wang"),
        (f"/team?page={HUGE}", "li"),
        (f"/audit?page={HUGE}", "audrey"),
        (f"/audit?plan={HUGE}", "audrey"),
        (f"/audit/export?plan={HUGE}", "audrey"),
        (f"/overdue?page={HUGE}", "wang"),
        (f"/admin/definitions/standard/{HUGE}", "adam"),
    ],
)
def test_a_number_too_large_is_a_refusal_naming_it(
    client: TestClient, world: World, path: str, who: str
) -> None:
    sign_in(client, world, who)
    answer = client.get(path)
    assert answer.status_code == 422, answer.text[:300]
    assert "at most" in answer.text


@pytest.mark.parametrize("plan", ["²", "١", HUGE, "0x1"])
def test_a_plan_id_that_is_not_one_is_no_plan(client: TestClient, world: World, plan: str) -> None:
    sign_in(client, world, "wang")
    assert client.get(f"/plans/{plan}").status_code == 404
