"""The plan routes: open, list, show, fire, sign, record, adjust, evaluate, report."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.db import session_scope
from models.tables import PLAN
from tests.conftest import ZHANG_FILE
from tests.perfplan.web.api_support import call, ok, output_in_tmp, sign_off, start, state_of
from tests.perfplan.web.conftest import World

__all__ = ["output_in_tmp"]  # the fixture, used by every test here


def _plan_count(world: World) -> int:
    with session_scope(world.engine) as session:
        return int(session.execute(select(func.count()).select_from(PLAN)).scalar_one())


def test_hr_opens_a_plan_from_the_yaml_document(client: TestClient, world: World) -> None:
    text = ZHANG_FILE.read_text(encoding="utf-8").replace("Zhang San —", "Zhang San (Q1) —")
    answer = call(
        client,
        world,
        "wang",
        "POST",
        "/api/plans",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["state"] == "drafted"
    assert created["title"].startswith("Zhang San (Q1)")
    history = ok(client, world, "audrey", "GET", f"/api/plans/{created['plan_id']}/audit")
    assert [(r["event"], r["actor"]) for r in history] == [("create", "wang")]


def test_a_plan_document_as_json_opens_a_plan(client: TestClient, world: World) -> None:
    detail = ok(client, world, "wang", "GET", f"/api/plans/{world.zhang_plan}")
    assert detail["plan"]["title"].startswith("Zhang San")
    from states.plans.opening import read_document_file

    document = read_document_file(ZHANG_FILE).model_dump(mode="json")
    answer = call(client, world, "wang", "POST", "/api/plans", json=document)
    assert answer.status_code == 201, answer.text
    assert _plan_count(world) == 3


def test_a_malformed_document_lists_every_problem_and_opens_nothing(
    client: TestClient, world: World
) -> None:
    document = {"title": "", "definition": "standard", "period": {"start": "2026-13-01"}}
    answer = call(client, world, "wang", "POST", "/api/plans", json=document)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "InvalidDocument"
    assert len(body["problems"]) >= 3
    assert any(p.startswith("period.start") for p in body["problems"])
    assert any(p.startswith("roles") for p in body["problems"])
    assert _plan_count(world) == 2


def test_an_unknown_definition_is_bad_input_not_a_missing_page(
    client: TestClient, world: World
) -> None:
    text = ZHANG_FILE.read_text(encoding="utf-8").replace("definition: standard", "definition: x")
    answer = call(
        client,
        world,
        "wang",
        "POST",
        "/api/plans",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 422
    assert "no workflow definition named 'x'" in answer.json()["problems"][0]


def test_a_body_that_is_neither_json_nor_yaml_is_refused(client: TestClient, world: World) -> None:
    answer = call(
        client,
        world,
        "wang",
        "POST",
        "/api/plans",
        content=b"<xml/>",
        headers={"Content-Type": "application/xml"},
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "content-type"
    broken = call(
        client,
        world,
        "wang",
        "POST",
        "/api/plans",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    assert "not valid JSON" in broken.json()["problems"][0]


def test_hr_of_another_department_cannot_open_a_plan_there(
    client: TestClient, world: World
) -> None:
    text = ZHANG_FILE.read_text(encoding="utf-8")
    answer = call(
        client,
        world,
        "qian",
        "POST",
        "/api/plans",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 403
    assert _plan_count(world) == 2


def test_lists_show_only_the_plans_a_person_may_see(client: TestClient, world: World) -> None:
    def ids(who: str, query: str = "") -> list[int]:
        return [p["id"] for p in ok(client, world, who, "GET", f"/api/plans{query}")["plans"]]

    zhang, liu = world.zhang_plan, world.liu_plan
    assert ids("zhang") == [zhang]
    assert ids("li") == [zhang]
    assert ids("sun") == [zhang]  # head of Sales East
    assert ids("zhao") == [liu, zhang]  # Liu's manager, a collaborator on Zhang's
    assert ids("qian") == [liu]
    assert ids("audrey") == [liu, zhang]
    assert ids("adam") == []
    assert ids("audrey", "?department=Technical Support") == [liu]
    assert ids("audrey", "?state=agreed") == []
    assert ids("audrey", "?period_from=2026-12-01") == []
    assert ids("zhao", "?relation=team") == [liu]
    assert ids("audrey", "?limit=1&offset=1") == [zhang]


def test_list_filters_are_checked(client: TestClient, world: World) -> None:
    for query in [
        "?limit=501",
        "?limit=0",
        "?period_from=2026-02-30",
        "?overdue=maybe",
        "?relation=friends",
        "?period_from=2026-12-01&period_to=2026-01-01",
    ]:
        answer = call(client, world, "audrey", "GET", f"/api/plans{query}")
        assert answer.status_code == 422, query
        assert answer.json()["detail"]


def test_overdue_lists_late_milestones_and_filters_plans(client: TestClient, world: World) -> None:
    start(client, world)
    world.clock.advance(days=20)  # 21 Sep: training_attended (15 Sep) is late
    late = ok(client, world, "wang", "GET", "/api/plans/overdue")
    assert [(m["plan_id"], m["milestone"], m["days_late"]) for m in late] == [
        (world.zhang_plan, "training_attended", 6)
    ]
    overdue = ok(client, world, "wang", "GET", "/api/plans?overdue=true")["plans"]
    assert [p["id"] for p in overdue] == [world.zhang_plan]
    assert call(client, world, "zhang", "GET", "/api/plans/overdue").status_code == 403


def test_show_says_what_can_happen_next(client: TestClient, world: World) -> None:
    detail = ok(client, world, "zhang", "GET", f"/api/plans/{world.zhang_plan}")
    assert detail["plan"]["state"] == "drafted"
    assert [g["key"] for g in detail["goals"]] == [
        "contracts",
        "training",
        "reports",
        "response_time",
    ]
    agree = detail["next_events"][0]
    assert (agree["event"], agree["approval"], agree["waiting_for"]) == (
        "agree",
        "sign_off",
        ["employee"],
    )


def test_sign_off_then_start_moves_the_plan(client: TestClient, world: World) -> None:
    first = ok(client, world, "zhang", "POST", f"/api/plans/{world.zhang_plan}/signatures", json={})
    assert (first["role"], first["waiting_for"], first["fired"]) == (
        "employee",
        ["manager", "hr"],
        None,
    )
    ok(client, world, "li", "POST", f"/api/plans/{world.zhang_plan}/signatures", json={})
    last = ok(client, world, "wang", "POST", f"/api/plans/{world.zhang_plan}/signatures", json={})
    assert last["fired"]["to_state"] == "agreed"
    early = call(
        client, world, "li", "POST", f"/api/plans/{world.zhang_plan}/events/start", json={}
    )
    assert early.status_code == 409
    assert early.json()["error"] == "GuardFailed"
    world.clock.advance(days=7)
    fired = ok(client, world, "li", "POST", f"/api/plans/{world.zhang_plan}/events/start", json={})
    assert (fired["from_state"], fired["to_state"]) == ("agreed", "in_progress")


def test_a_stale_version_is_a_conflict_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    sign_off(client, world)
    world.clock.advance(days=7)
    answer = call(
        client,
        world,
        "li",
        "POST",
        f"/api/plans/{world.zhang_plan}/events/start",
        json={"expected_version": 1},
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "Conflict"
    assert state_of(client, world) == "agreed"


def test_the_employee_cannot_approve_his_own_plan(client: TestClient, world: World) -> None:
    ok(client, world, "zhang", "POST", f"/api/plans/{world.zhang_plan}/signatures", json={})
    again = call(
        client, world, "zhang", "POST", f"/api/plans/{world.zhang_plan}/signatures", json={}
    )
    assert again.status_code == 409
    sign_off_rest = [("li", 200), ("wang", 200)]
    for person, status in sign_off_rest:
        assert (
            call(
                client, world, person, "POST", f"/api/plans/{world.zhang_plan}/signatures", json={}
            ).status_code
            == status
        )
    world.clock.advance(days=7)
    own = call(
        client, world, "zhang", "POST", f"/api/plans/{world.zhang_plan}/events/start", json={}
    )
    assert own.status_code == 403
    assert own.json()["error"] == "Forbidden"


def test_a_running_plan_records_progress_coaching_and_measurements(
    client: TestClient, world: World
) -> None:
    start(client, world)
    plan = f"/api/plans/{world.zhang_plan}"
    progress = {"summary": "2 reports done, 1 approved", "blockers": "waiting on data"}
    report = ok(client, world, "zhang", "POST", f"{plan}/progress-reports", json=progress)
    coaching = ok(
        client,
        world,
        "li",
        "POST",
        f"{plan}/coaching-sessions",
        json={"notes": "Focus on the Huaxin case", "minutes": 15},
    )
    measured = ok(
        client,
        world,
        "li",
        "POST",
        f"{plan}/measurements",
        json={"goal": "training", "value": 86, "measured_on": "2026-09-01"},
    )
    done = ok(
        client,
        world,
        "li",
        "POST",
        f"{plan}/milestones/training_attended/done",
        json={"comment": "attended all days"},
    )
    assert report["version"] < coaching["version"] < measured["version"] < done["version"]
    events = [r["event"] for r in ok(client, world, "audrey", "GET", f"{plan}/audit")]
    assert events[-4:] == ["report_progress", "record_coaching", "measure", "complete_milestone"]
    detail = ok(client, world, "zhang", "GET", plan)
    training = next(g for g in detail["goals"] if g["key"] == "training")
    assert training["actual"] == 86
    assert training["milestones"][0]["status"] == "done"
    unknown = call(
        client, world, "li", "POST", f"{plan}/measurements", json={"goal": "nope", "value": 1}
    )
    assert (unknown.status_code, unknown.json()["field"]) == (422, "goal")
    empty = call(client, world, "zhang", "POST", f"{plan}/progress-reports", json={"summary": ""})
    assert empty.status_code == 422


def test_an_adjustment_is_proposed_then_reconfirmed(client: TestClient, world: World) -> None:
    start(client, world)
    plan = f"/api/plans/{world.zhang_plan}"
    proposal = {
        "kind": "milestone",
        "key": "training_attended",
        "changes": {"due": "2026-09-25"},
        "reason": "training postponed",
    }
    ok(client, world, "li", "POST", f"{plan}/adjustments", json=proposal)
    assert state_of(client, world) == "adjusted"
    goal = call(
        client, world, "li", "POST", f"{plan}/adjustments", json=proposal | {"kind": "goal"}
    )
    assert goal.status_code == 422
    first = ok(client, world, "zhang", "POST", f"{plan}/adjustments/confirm", json={})
    assert first["fired"] is None
    last = ok(client, world, "li", "POST", f"{plan}/adjustments/confirm", json={})
    assert last["fired"]["to_state"] == "in_progress"
    detail = ok(client, world, "zhang", "GET", plan)
    assert [a["status"] for a in detail["adjustments"]] == ["confirmed"]
    nothing = call(client, world, "li", "POST", f"{plan}/adjustments/confirm", json={})
    assert nothing.status_code == 409


def test_evaluation_needs_every_goal_measured_then_closes_the_plan(
    client: TestClient, world: World
) -> None:
    start(client, world)
    plan = f"/api/plans/{world.zhang_plan}"
    verdict = {"outcome": "successful", "feedback": "from 60 % to 95 %", "lessons": "templates"}
    early = call(client, world, "li", "POST", f"{plan}/evaluation", json=verdict)
    assert (early.status_code, early.json()["error"]) == (409, "GuardFailed")
    for goal, value in [
        ("contracts", 95),
        ("training", 86),
        ("reports", 100),
        ("response_time", 22),
    ]:
        ok(client, world, "li", "POST", f"{plan}/measurements", json={"goal": goal, "value": value})
    bad = call(client, world, "li", "POST", f"{plan}/evaluation", json={"outcome": "great"})
    assert bad.status_code == 422
    assert (
        call(client, world, "zhang", "POST", f"{plan}/evaluation", json=verdict).status_code == 403
    )
    fired = ok(client, world, "li", "POST", f"{plan}/evaluation", json=verdict)
    assert fired["to_state"] == "evaluated"
    report = ok(client, world, "zhang", "GET", f"{plan}/report")
    assert report["evaluation"]["outcome"] == "successful"
    html = call(client, world, "zhang", "GET", f"{plan}/report?format=html&locale=zh-CN")
    assert html.headers["content-type"].startswith("text/html")
    assert "张三" in html.text
    markdown = call(client, world, "zhang", "GET", f"{plan}/report?format=md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "95" in markdown.text


def test_unknown_fields_and_huge_ids_are_bad_input(client: TestClient, world: World) -> None:
    plan = f"/api/plans/{world.zhang_plan}"
    extra = call(client, world, "zhang", "POST", f"{plan}/signatures", json={"evnt": "agree"})
    assert extra.status_code == 422
    assert "evnt" in json.dumps(extra.json()["problems"])
    assert call(client, world, "zhang", "GET", f"/api/plans/{2**40}").status_code == 422
    assert call(client, world, "zhang", "GET", "/api/plans/0").status_code == 422


def test_a_body_that_cannot_be_read_is_malformed_input(client: TestClient, world: World) -> None:
    """Found by schemathesis: bytes that are not UTF-8 made FastAPI answer 400 unlisted."""
    json_type = {"Content-Type": "application/json"}
    answer = call(
        client,
        world,
        "zhang",
        "POST",
        f"/api/plans/{world.zhang_plan}/signatures",
        content=b"\x8f\xa9W<,\n",
        headers=json_type,
    )
    assert answer.status_code == 422
    assert (answer.json()["error"], answer.json()["field"]) == ("InvalidInput", "body")
    assert state_of(client, world) == "drafted"


@pytest.mark.both_databases
def test_a_nul_character_is_refused_before_it_reaches_the_database(
    client: TestClient, world: World
) -> None:
    """PostgreSQL cannot store NUL in text: it is bad input on every database."""
    start(client, world)
    plan = f"/api/plans/{world.zhang_plan}"
    report = call(
        client, world, "zhang", "POST", f"{plan}/progress-reports", json={"summary": "done\u0000"}
    )
    assert (report.status_code, report.json()["field"]) == (422, "summary")
    from states.plans.opening import read_document_file

    document = read_document_file(ZHANG_FILE).model_dump(mode="json")
    document["goals"][0]["title"] = "contracts\u0000"
    created = call(client, world, "wang", "POST", "/api/plans", json=document)
    assert created.status_code == 422
    assert created.json()["problems"] == ["goals.0.title: a NUL character cannot be stored"]
    assert _plan_count(world) == 2
    listed = call(client, world, "wang", "GET", "/api/plans", params={"state": "in\u0000progress"})
    assert listed.status_code == 422


def test_an_upload_over_a_megabyte_is_refused_unread(client: TestClient, world: World) -> None:
    huge = b"# " + b"x" * 1_000_001
    answer = call(
        client,
        world,
        "wang",
        "POST",
        "/api/plans",
        content=huge,
        headers={"Content-Type": "application/yaml"},
    )
    assert answer.status_code == 422
    assert "larger than" in answer.json()["detail"]
