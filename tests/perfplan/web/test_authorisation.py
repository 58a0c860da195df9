"""The authorisation matrix: every persona × every route × Zhang's and Liu's plan.

The expected status comes from one table of facts (who stands in which relation to
which plan, who holds which standing role) read through `states.access`'s policy
tables: no relation → 404 (the plan does not exist for them), a read-only relation
on a change → 403, otherwise the route's own answer. Changes are sent with a stale
`expected_version`, so passing the gate answers 409 and nothing ever changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from models.db import session_scope
from models.tables import PLAN
from people.access import ORG_POLICY, PLAN_POLICY
from states.definitions.catalog import BUILTIN_DIR
from tests.perfplan.web.api_support import call, ok, output_in_tmp, sign_off
from tests.perfplan.web.conftest import PERSONAS, World

__all__ = ["output_in_tmp"]

# The facts of the world (tests/perfplan/web/conftest.py): relations to each plan.
RELATIONS: dict[str, dict[str, set[str]]] = {
    "zhang": {"zhang": {"participant"}, "liu": set()},
    "li": {"zhang": {"participant", "line_manager"}, "liu": set()},
    "sun": {"zhang": {"department_head"}, "liu": set()},
    "chen": {"zhang": {"participant"}, "liu": set()},
    "zhao": {"zhang": {"participant"}, "liu": {"participant", "line_manager"}},
    "liu": {"zhang": set(), "liu": {"participant"}},
    "wang": {"zhang": {"participant", "hr"}, "liu": set()},
    "qian": {"zhang": set(), "liu": {"participant", "hr"}},
    "audrey": {"zhang": {"auditor"}, "liu": {"auditor"}},
    "adam": {"zhang": set(), "liu": set()},
}
STANDING = {"wang": {"hr"}, "qian": {"hr"}, "audrey": {"auditor"}, "adam": {"admin"}}

STALE = {"expected_version": 999}

# The access policy is SQL: it must give the same answers on both databases.
pytestmark = pytest.mark.both_databases


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # {plan} is the plan's id
    gate: str  # "read" or "act" (plan routes), or an ORG_POLICY right
    allowed: int  # the answer once past the gate
    body: Any = None
    yaml: bool = False


PLAN_ROUTES = [
    Route("show", "GET", "/api/plans/{plan}", "read", 200),
    Route("history", "GET", "/api/plans/{plan}/audit", "read", 200),
    Route("history csv", "GET", "/api/plans/{plan}/audit?format=csv", "read", 200),
    Route("verify", "GET", "/api/plans/{plan}/audit/verify", "read", 200),
    Route("ledger", "GET", "/api/plans/{plan}/notifications", "read", 200),
    Route("report", "GET", "/api/plans/{plan}/report", "read", 200),
    Route("diagram", "GET", "/api/definitions/standard/diagram?plan={plan}", "read", 200),
    Route("fire", "POST", "/api/plans/{plan}/events/start", "act", 409, STALE),
    Route("sign", "POST", "/api/plans/{plan}/signatures", "act", 409, STALE),
    Route(
        "progress",
        "POST",
        "/api/plans/{plan}/progress-reports",
        "act",
        409,
        {"summary": "done", **STALE},
    ),
    Route("coaching", "POST", "/api/plans/{plan}/coaching-sessions", "act", 409, STALE),
    Route(
        "measure",
        "POST",
        "/api/plans/{plan}/measurements",
        "act",
        409,
        {"goal": "training", "value": 80, **STALE},
    ),
    Route("milestone", "POST", "/api/plans/{plan}/milestones/report_1/done", "act", 409, STALE),
    Route(
        "adjust",
        "POST",
        "/api/plans/{plan}/adjustments",
        "act",
        409,
        {
            "kind": "milestone",
            "key": "report_1",
            "changes": {"due": "2026-10-12"},
            "reason": "late data",
            **STALE,
        },
    ),
    Route("confirm", "POST", "/api/plans/{plan}/adjustments/confirm", "act", 409, STALE),
    Route(
        "evaluate",
        "POST",
        "/api/plans/{plan}/evaluation",
        "act",
        409,
        {"outcome": "successful", **STALE},
    ),
]

ORG_ROUTES = [
    Route("create", "POST", "/api/plans", "plans.create", 422, {}),
    Route("overdue", "GET", "/api/plans/overdue", "plans.overdue_dashboard", 200),
    Route("audit search", "GET", "/api/audit", "audit.search", 200),
    Route("verify all", "GET", "/api/audit/verify", "audit.verify_all", 200),
    Route("definitions", "GET", "/api/definitions", "definitions.read", 200),
    Route("definition", "GET", "/api/definitions/standard", "definitions.read", 200),
    Route("check", "POST", "/api/definitions/check", "definitions.check", 200, yaml=True),
    Route("install", "POST", "/api/definitions", "definitions.install", 201, yaml=True),
    Route(
        "dead letters", "GET", "/api/notifications/dead-letters", "notifications.dead_letters", 200
    ),
    Route("retry all", "POST", "/api/notifications/dead-letters/retry", "notifications.retry", 200),
]


def expected_on_plan(person: str, plan: str, route: Route) -> int:
    held = RELATIONS[person][plan]
    if not held & PLAN_POLICY["read"]:
        return 404
    if not held & PLAN_POLICY[route.gate]:
        return 403
    return route.allowed


def expected_standing(person: str, route: Route) -> int:
    allowed = ORG_POLICY[route.gate]
    if "anyone" in allowed or STANDING.get(person, set()) & allowed:
        return route.allowed
    return 403


# One test per persona and plan (the world costs more to build than a request); each
# test sends every route and reports every cell of its row that disagrees.
PLAN_CASES = [
    pytest.param(person, plan, id=f"{person}-on-{plan}s-plan")
    for person in PERSONAS
    for plan in ("zhang", "liu")
]


def _send(client: TestClient, world: World, person: str, route: Route, plan_id: int = 0) -> Any:
    url = route.path.replace("{plan}", str(plan_id))
    if route.yaml:
        text = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")
        return call(
            client,
            world,
            person,
            route.method,
            url,
            content=text,
            headers={"Content-Type": "application/yaml"},
        )
    if route.method == "GET":
        return call(client, world, person, "GET", url)
    return call(client, world, person, route.method, url, json=route.body)


def _versions(world: World) -> list[int]:
    with session_scope(world.engine) as session:
        return list(session.execute(select(PLAN.c.version).order_by(PLAN.c.id)).scalars())


@pytest.mark.parametrize(("person", "plan"), PLAN_CASES)
def test_plan_routes(client: TestClient, world: World, person: str, plan: str) -> None:
    plan_id = world.zhang_plan if plan == "zhang" else world.liu_plan
    before = _versions(world)
    wrong = []
    for route in PLAN_ROUTES:
        status = expected_on_plan(person, plan, route)
        answer = _send(client, world, person, route, plan_id)
        if answer.status_code != status or (status != 200 and not answer.json()["detail"]):
            wrong.append(f"{route.name}: {answer.status_code} (expected {status}) {answer.text}")
    assert not wrong, "\n".join(wrong)
    assert _versions(world) == before  # nothing changed, whoever asked
    if plan == "zhang":  # once per persona, in the world already built
        _feed_holds_exactly_the_plans_its_owner_is_on(client, world, person)


def _feed_holds_exactly_the_plans_its_owner_is_on(
    client: TestClient, world: World, person: str
) -> None:
    """The feed (`/calendar/<token>.ics`) reads through the plan list's policy: a
    person's feed holds the plans they hold a part in, never one they merely oversee
    (a department head, an auditor) nor another person's."""
    from tests.perfplan.web.test_calendar_feed import _token, feed_plans

    ids = {"zhang": world.zhang_plan, "liu": world.liu_plan}
    expected = {ids[plan] for plan, held in RELATIONS[person].items() if "participant" in held}
    assert feed_plans(client, _token(world, person)) == expected, person


@pytest.mark.parametrize("person", PERSONAS)
def test_standing_rights(
    client: TestClient, world: World, person: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(tmp_path / "definitions"))
    wrong = []
    for route in ORG_ROUTES:
        status = expected_standing(person, route)
        answer = _send(client, world, person, route)
        if answer.status_code != status:
            wrong.append(f"{route.name}: {answer.status_code} (expected {status}) {answer.text}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_persona_route_and_answer() -> None:
    """The table is not vacuous: it expects every kind of answer somewhere."""
    cells = {
        expected_on_plan(p, plan, r)
        for p in PERSONAS
        for plan in ("zhang", "liu")
        for r in PLAN_ROUTES
    }
    assert cells == {200, 403, 404, 409}
    assert {expected_standing(p, r) for p in PERSONAS for r in ORG_ROUTES} == {200, 201, 403, 422}


def test_the_policy_says_what_the_issue_says() -> None:
    """Auditors read everything and change nothing; HR opens plans; admins manage definitions."""
    assert "auditor" in PLAN_POLICY["read"] and "auditor" not in PLAN_POLICY["act"]
    assert ORG_POLICY["plans.create"] == {"hr"}
    assert ORG_POLICY["definitions.install"] == {"admin"}
    assert ORG_POLICY["audit.search"] == {"auditor"}


def test_someone_elses_plan_reads_like_no_plan_at_all(client: TestClient, world: World) -> None:
    """The id swap: Li asking for Liu's plan learns nothing, not even that it exists."""
    missing_id = world.liu_plan + 1000
    for path in ["/api/plans/{}", "/api/plans/{}/audit", "/api/plans/{}/notifications"]:
        swapped = call(client, world, "li", "GET", path.format(world.liu_plan))
        missing = call(client, world, "li", "GET", path.format(missing_id))
        assert swapped.status_code == missing.status_code == 404
        assert swapped.json() == {**missing.json(), "detail": f"no plan with id {world.liu_plan}"}
        assert missing.json()["detail"] == f"no plan with id {missing_id}"


def test_no_one_approves_their_own_plan(client: TestClient, world: World) -> None:
    sign_off(client, world)
    world.clock.advance(days=7)
    plan = f"/api/plans/{world.zhang_plan}"
    own = call(client, world, "zhang", "POST", f"{plan}/events/start", json={})
    assert (own.status_code, own.json()["error"]) == (403, "Forbidden")
    mentor = call(client, world, "chen", "POST", f"{plan}/events/start", json={})
    assert mentor.status_code == 403
    ok(client, world, "li", "POST", f"{plan}/events/start", json={})
    for goal, value in [
        ("contracts", 95),
        ("training", 86),
        ("reports", 100),
        ("response_time", 22),
    ]:
        ok(client, world, "li", "POST", f"{plan}/measurements", json={"goal": goal, "value": value})
    verdict = {"outcome": "successful"}
    assert (
        call(client, world, "zhang", "POST", f"{plan}/evaluation", json=verdict).status_code == 403
    )
    assert (
        call(client, world, "audrey", "POST", f"{plan}/evaluation", json=verdict).status_code == 403
    )


def test_hr_of_another_department_does_not_see_the_plan(client: TestClient, world: World) -> None:
    answer = call(
        client, world, "qian", "POST", f"/api/plans/{world.zhang_plan}/signatures", json={}
    )
    assert answer.status_code == 404
    assert [p["id"] for p in ok(client, world, "qian", "GET", "/api/plans")["plans"]] == [
        world.liu_plan
    ]
