"""The pages, through the in-process client on both databases: who sees which plans,
the plan page and its forms, refusals (404 for a stranger's plan, 403 for an auditor
or without CSRF, self-approval never offered), and Chinese for Zhang."""

from __future__ import annotations

from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.db import session_scope
from models.tables import (
    ADJUSTMENT,
    COACHING_SESSION,
    EVALUATION,
    MEASUREMENT,
    MILESTONE,
    PROGRESS_REPORT,
    SIGNATURE,
)
from perfplan.web.deps import LANG_COOKIE
from tests.perfplan.web.conftest import World
from tests.perfplan.web.pages_support import plan_row, post, sign_in, sign_off, start


def refusal(page: str) -> str:
    return page.split('role="alert">')[1].split("</p>")[0]


def count(world: World, table: object, **where: object) -> int:
    with session_scope(world.engine) as session:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        for column, value in where.items():
            query = query.where(table.c[column] == value)  # type: ignore[attr-defined]
        return int(session.execute(query).scalar_one())


# Lists -------------------------------------------------------------------------


def test_my_plans_lists_only_the_plans_i_am_on(client: TestClient, world: World) -> None:
    sign_in(client, world, "zhang")
    page = client.get("/plans")
    assert page.status_code == 200
    assert f'data-plan="{world.zhang_plan}"' in unescape(page.text)
    assert f'data-plan="{world.liu_plan}"' not in unescape(page.text)
    sign_in(client, world, "chen")  # Zhang's mentor takes part in his plan
    assert f'data-plan="{world.zhang_plan}"' in client.get("/plans").text
    sign_in(client, world, "audrey")  # reads everything, but is on no plan
    assert "data-plan=" not in client.get("/plans").text


def test_my_plans_say_what_is_overdue_and_what_is_due(client: TestClient, world: World) -> None:
    start(client, world, world.zhang_plan)  # 2026-09-01: its milestones run from now on
    world.clock.advance(days=20)  # 2026-09-21: the training attendance (09-15) is late
    sign_in(client, world, "li")
    page = client.get("/plans").text
    row = page.split(f'data-plan="{world.zhang_plan}"')[1].split("</tr>")[0]
    assert "1 milestone(s) late" in row
    assert "2026-09-30" in row  # the next one due: passing the assessment


def test_team_lists_the_plans_of_the_people_i_manage(client: TestClient, world: World) -> None:
    sign_in(client, world, "li")
    page = client.get("/team").text
    assert f'data-plan="{world.zhang_plan}"' in page
    assert f'data-plan="{world.liu_plan}"' not in page
    sign_in(client, world, "sun")  # heads Sales East
    assert f'data-plan="{world.zhang_plan}"' in client.get("/team").text
    sign_in(client, world, "zhang")
    client.cookies.set(LANG_COOKIE, "en")
    assert "No one you manage is on a plan" in client.get("/team").text


def test_hr_and_auditors_list_every_plan_they_may_read(client: TestClient, world: World) -> None:
    sign_in(client, world, "wang")  # HR for Sales East
    page = client.get("/plans?scope=all").text
    assert 'id="all-plans"' in page
    assert f'data-plan="{world.zhang_plan}"' in page and f'data-plan="{world.liu_plan}"' not in page
    sign_in(client, world, "audrey")
    page = client.get("/plans?scope=all").text
    assert f'data-plan="{world.zhang_plan}"' in page and f'data-plan="{world.liu_plan}"' in page
    support = client.get("/plans?scope=all&department=Technical+Support").text
    assert (
        f'data-plan="{world.liu_plan}"' in support
        and f'data-plan="{world.zhang_plan}"' not in support
    )
    assert "data-plan=" not in client.get("/plans?scope=all&state=in_progress").text
    assert client.get("/plans?scope=everything").status_code == 422
    sign_in(client, world, "zhang")  # no standing role: no such tab, and only his own plan
    assert 'id="all-plans"' not in client.get("/plans").text
    page = client.get("/plans?scope=all").text
    assert f'data-plan="{world.zhang_plan}"' in page and f'data-plan="{world.liu_plan}"' not in page


def test_a_page_number_that_is_not_one_is_a_clear_422(client: TestClient, world: World) -> None:
    sign_in(client, world, "li")
    answer = client.get("/plans?page=two")
    assert answer.status_code == 422
    assert "page: 'two' is not a whole number" in unescape(answer.text)
    assert client.get("/team?page=0").status_code == 422


# The plan page -----------------------------------------------------------------


def test_the_plan_page_shows_the_whole_plan(client: TestClient, world: World) -> None:
    sign_in(client, world, "li")
    page = client.get(f"/plans/{world.zhang_plan}")
    assert page.status_code == 200
    text = page.text
    assert "Q3 new-customer contracts at 60 % of target" in text  # diagnosis
    goal = text.split('data-goal="contracts"')[1].split("</tr>")[0]
    assert "60 → <strong>100</strong> % →" in goal and "not measured yet" in goal
    assert text.count('class="milestone-row') == 9
    action = text.split('data-action="support_sla"')[1].split("</tr>")[0]
    assert "Zhang San" in action and "Li Wei" in action and "Zhao Lei" in action
    assert 'id="verify-status">chain verified (1 records)' in text
    assert 'class="state current initial" data-state="drafted"' in text  # the diagram
    assert "stateDiagram-v2" in text and "class drafted current" in text  # Mermaid source


def test_milestones_are_done_due_or_late_on_the_clocks_date(
    client: TestClient, world: World
) -> None:
    csrf = start(client, world, world.zhang_plan)
    answer = post(client, world, world.zhang_plan, "milestone", csrf, milestone="training_attended")
    assert answer.status_code == 303
    world.clock.advance(days=30)  # 2026-10-01: the assessment (09-30) is late
    sign_in(client, world, "li")  # the session of a month ago has expired
    page = client.get(f"/plans/{world.zhang_plan}").text
    assert 'data-milestone="training_attended" data-timeline="done"' in page
    assert "done 2026-09-01" in page
    assert 'data-milestone="training_passed" data-timeline="late"' in page
    assert "1 days late" in page
    assert 'data-milestone="report_1" data-timeline="due"' in page
    assert page.count('<circle class="milestone late"') == 1


def test_a_strangers_plan_and_a_missing_plan_answer_the_same_404(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "zhang")
    posted = post(client, world, world.liu_plan, "sign", csrf, event="agree")
    assert posted.status_code == 404 and count(world, SIGNATURE) == 0
    theirs = client.get(f"/plans/{world.liu_plan}")
    missing = client.get("/plans/99999")
    nonsense = client.get("/plans/abc")
    assert [theirs.status_code, missing.status_code, nonsense.status_code] == [404, 404, 404]
    assert "没有这个页面，或您无权查看。" in unescape(theirs.text)  # Zhang reads Chinese
    assert refusal(theirs.text) == refusal(missing.text)
    assert "刘洋" not in unescape(theirs.text) and "Liu Yang" not in unescape(theirs.text)


def test_zhang_is_never_offered_to_approve_his_own_plan(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "zhang")
    page = client.get(f"/plans/{world.zhang_plan}").text
    assert 'data-sign="agree"' in page  # step 1 is his own signature
    assert post(client, world, world.zhang_plan, "sign", csrf, event="agree").status_code == 303
    page = client.get(f"/plans/{world.zhang_plan}").text
    assert 'data-sign="agree"' not in page  # step 2 is for his manager and HR
    forged = post(client, world, world.zhang_plan, "sign", csrf, event="agree")
    assert forged.status_code == 409
    assert "zhang has already signed" in unescape(forged.text)
    sign_off_rest(client, world)
    world.clock.advance(days=7)
    csrf = sign_in(client, world, "zhang")
    page = client.get(f"/plans/{world.zhang_plan}").text
    assert 'data-event="start"' not in page
    before = plan_row(world, world.zhang_plan)
    forged = post(client, world, world.zhang_plan, "fire", csrf, event="start")
    assert forged.status_code == 403
    assert "no one approves their own plan" in unescape(forged.text)
    assert plan_row(world, world.zhang_plan)["version"] == before["version"]
    assert plan_row(world, world.zhang_plan)["state"] == "agreed"


def sign_off_rest(client: TestClient, world: World) -> None:
    for person in ("li", "wang"):
        csrf = sign_in(client, world, person)
        assert post(client, world, world.zhang_plan, "sign", csrf, event="agree").status_code == 303


def test_li_signs_after_zhang_and_the_last_signature_agrees_the_plan(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "li")
    assert 'data-sign="agree"' not in client.get(f"/plans/{world.zhang_plan}").text  # step 1 first
    sign_off(client, world, world.zhang_plan)
    assert count(world, SIGNATURE, plan_id=world.zhang_plan) == 3
    sign_in(client, world, "li")
    page = client.get(f"/plans/{world.zhang_plan}?done=signed")
    assert 'data-state="agreed">Agreed</span>' in unescape(page.text)
    assert "Your signature is recorded." in unescape(page.text)
    assert 'id="verify-status">chain verified (5 records)' in unescape(page.text)
    assert csrf


def test_an_auditor_reads_every_plan_sees_no_buttons_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "audrey")
    page = client.get(f"/plans/{world.liu_plan}")
    assert page.status_code == 200
    assert "You can read this plan but not change it." in unescape(page.text)
    assert f'action="/plans/{world.liu_plan}/' not in unescape(page.text)
    before = plan_row(world, world.zhang_plan)
    answer = post(client, world, world.zhang_plan, "sign", csrf, event="agree")
    assert answer.status_code == 403
    assert "may read plan" in unescape(answer.text) and "but not change it" in unescape(answer.text)
    assert plan_row(world, world.zhang_plan)["version"] == before["version"]
    assert count(world, SIGNATURE) == 0


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, world: World) -> None:
    sign_in(client, world, "zhang")
    answer = client.post(f"/plans/{world.zhang_plan}/sign", data={"event": "agree"})
    assert answer.status_code == 403
    forged = client.post(
        f"/plans/{world.zhang_plan}/sign", data={"event": "agree", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert count(world, SIGNATURE) == 0


def test_a_refused_action_shows_the_plan_again_with_the_reason(
    client: TestClient, world: World
) -> None:
    csrf = sign_in(client, world, "li")
    too_early = post(client, world, world.zhang_plan, "fire", csrf, event="start")
    assert too_early.status_code == 409
    assert 'id="refusal"' in unescape(
        too_early.text
    ) and "'start' is not possible from there" in unescape(too_early.text)
    assert 'id="plan-state"' in unescape(too_early.text)  # the plan page, not a bare error
    drafting = post(client, world, world.zhang_plan, "progress", csrf, summary="x")
    assert drafting.status_code == 409
    assert "report progress is possible only in in_progress, adjusted" in unescape(drafting.text)
    assert plan_row(world, world.zhang_plan)["state"] == "drafted"


def test_a_stale_form_is_a_conflict_and_changes_nothing(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "zhang")
    version = plan_row(world, world.zhang_plan)["version"]
    assert post(client, world, world.zhang_plan, "sign", csrf, event="agree").status_code == 303
    csrf = sign_in(client, world, "li")
    form = {"csrf_token": csrf, "version": str(version), "event": "agree"}
    stale = client.post(f"/plans/{world.zhang_plan}/sign", data=form)
    assert stale.status_code == 409
    assert "was changed by someone else" in unescape(stale.text)
    assert count(world, SIGNATURE) == 1


def test_running_a_plan_from_its_page(client: TestClient, world: World) -> None:
    plan = world.zhang_plan
    start(client, world, plan)
    csrf = sign_in(client, world, "zhang")
    page = client.get(f"/plans/{plan}").text
    assert f'action="/plans/{plan}/progress"' in page
    assert f'action="/plans/{plan}/milestone"' not in page  # the manager's to accept
    done = post(client, world, plan, "progress", csrf, summary="Two proposals sent", blockers="")
    assert done.status_code == 303 and done.headers["location"] == f"/plans/{plan}?done=progress"
    empty = post(client, world, plan, "progress", csrf, summary="  ", blockers="No CRM access")
    assert empty.status_code == 422 and "needs a summary" in unescape(empty.text)
    assert 'rows="2">No CRM access</textarea>' in empty.text  # kept for the next try
    csrf = sign_in(client, world, "li")
    assert (
        post(
            client, world, plan, "coaching", csrf, notes="Reviewed the proposals", minutes="20"
        ).status_code
        == 303
    )
    bad = post(client, world, plan, "coaching", csrf, notes="x", minutes="soon")
    assert bad.status_code == 422 and "minutes: 'soon' is not a whole number" in unescape(bad.text)
    assert (
        post(client, world, plan, "measure", csrf, goal="contracts", value="72.5").status_code
        == 303
    )
    nan = post(client, world, plan, "measure", csrf, goal="contracts", value="lots")
    assert nan.status_code == 422 and "'lots' is not a number" in unescape(nan.text)
    assert (
        post(client, world, plan, "milestone", csrf, milestone="training_attended").status_code
        == 303
    )
    assert count(world, PROGRESS_REPORT) == 1 and count(world, COACHING_SESSION) == 1
    assert count(world, MEASUREMENT) == 1
    assert count(world, MILESTONE, key="training_attended", status="done") == 1
    goal = client.get(f"/plans/{plan}").text.split('data-goal="contracts"')[1].split("</tr>")[0]
    assert "72.5 %" in goal and "31 %" in goal  # (72.5 - 60) / (100 - 60)


def test_proposing_an_adjustment_moves_the_plan_and_waits_for_reconfirmation(
    client: TestClient, world: World
) -> None:
    plan = world.zhang_plan
    csrf = start(client, world, plan)
    moved = post(
        client,
        world,
        plan,
        "adjust",
        csrf,
        target="milestone:report_3",
        field="due",
        value="2026-11-06",
        reason="Customer visit moved",
    )
    assert moved.status_code == 303
    assert plan_row(world, plan)["state"] == "adjusted"
    assert count(world, ADJUSTMENT, status="proposed") == 1
    page = client.get(f"/plans/{plan}").text
    assert "2026-10-30 → 2026-11-06" in page and "waiting for re-confirmation" in page
    assert 'data-sign="reconfirm"' in page
    outside = post(
        client,
        world,
        plan,
        "adjust",
        csrf,
        target="milestone:report_2",
        field="due",
        value="2027-01-01",
        reason="later",
    )
    assert outside.status_code == 422 and "outside the plan's period" in unescape(outside.text)
    assert count(world, ADJUSTMENT) == 1


def test_evaluating_takes_the_definitions_inputs(client: TestClient, world: World) -> None:
    plan = world.zhang_plan
    csrf = start(client, world, plan)
    sign_in(client, world, "wang")
    csrf = sign_in(client, world, "li")
    for goal, value in [
        ("contracts", "101"),
        ("training", "85"),
        ("reports", "92"),
        ("response_time", "22"),
    ]:
        assert post(client, world, plan, "measure", csrf, goal=goal, value=value).status_code == 303
    page = client.get(f"/plans/{plan}").text
    assert 'name="input.outcome"' in page and 'value="not_met"' in page
    missing = post(
        client,
        world,
        plan,
        "fire",
        csrf,
        event="evaluate",
        **{"input.feedback": "Contracts back at 101 %"},
    )
    assert missing.status_code == 422 and "needs the input 'outcome'" in unescape(missing.text)
    assert ">Contracts back at 101 %</textarea>" in missing.text  # what was typed is kept
    wrong = post(client, world, plan, "fire", csrf, event="evaluate", **{"input.outcome": "great"})
    assert wrong.status_code == 422 and "'great' is not one of" in unescape(wrong.text)
    done = post(
        client,
        world,
        plan,
        "fire",
        csrf,
        event="evaluate",
        **{"input.outcome": "successful", "input.feedback": "Back on target"},
    )
    assert done.status_code == 303
    assert count(world, EVALUATION) == 1
    page = client.get(f"/plans/{plan}").text
    assert 'data-state="evaluated"' in page and "Back on target" in page
    assert "There is nothing for you to do on this plan right now." in page


def test_an_unknown_form_is_404(client: TestClient, world: World) -> None:
    csrf = sign_in(client, world, "li")
    answer = post(client, world, world.zhang_plan, "delete", csrf)
    assert answer.status_code == 404


# Chinese -----------------------------------------------------------------------


def test_zhang_reads_his_plan_in_chinese(client: TestClient, world: World) -> None:
    sign_in(client, world, "zhang")
    page = client.get(f"/plans/{world.zhang_plan}").text
    assert '<html lang="zh-CN">' in page
    assert "我的计划" in page and "草拟中" in page and "签字确认" in page  # words and labels
    assert "里程碑" in page and "记录链校验通过" in page
    listing = client.get("/plans").text
    client.cookies.set(LANG_COOKIE, "en")
    english = client.get(f"/plans/{world.zhang_plan}").text
    assert "My plans" in english and "Drafted" in english and "草拟中" not in english
    assert "我的角色" in listing and "员工" in listing


def test_malformed_forms_are_refused_with_a_sentence_and_change_nothing(
    client: TestClient, world: World
) -> None:
    plan = world.zhang_plan
    csrf = start(client, world, plan)
    malformed = [
        ("fire", {"event": "fly"}, "has no event 'fly'"),
        ("fire", {"event": "evaluate", "input.mood": "good"}, "takes no input mood"),
        ("sign", {"event": "start"}, "'start' is not possible from there"),
        ("sign", {}, "nothing waits for signatures"),
        ("measure", {"goal": "happiness", "value": "3"}, "has no goal 'happiness'"),
        (
            "measure",
            {"goal": "contracts", "value": "70", "measured_on": "31/10/2026"},
            "'31/10/2026' is not a date",
        ),
        ("milestone", {"milestone": "moon_landing"}, "has no milestone 'moon_landing'"),
        (
            "adjust",
            {"target": "goal:contracts", "field": "target", "value": "90", "reason": "x"},
            "goals stay fixed",
        ),
        (
            "adjust",
            {"target": "milestone:report_2", "field": "due", "value": "soon", "reason": "x"},
            "'soon' is not a date",
        ),
        (
            "adjust",
            {"target": "milestone:report_2", "field": "due", "value": "2026-11-01", "reason": " "},
            "needs a reason",
        ),
        ("coaching", {"notes": " "}, "needs notes"),
        ("progress", {"summary": "ok", "version": "latest"}, "'latest' is not a whole number"),
        ("progress", {"summary": "ok", "version": ""}, "reload the page"),
    ]
    before = plan_row(world, plan)
    for what, fields, sentence in malformed:
        answer = post(client, world, plan, what, csrf, **fields)
        assert 400 <= answer.status_code < 500, (what, fields, answer.status_code)
        assert sentence in unescape(answer.text), (what, sentence)
        assert 'id="plan-state"' in answer.text  # the plan again, with the reason
    after = plan_row(world, plan)
    assert (after["version"], after["state"]) == (before["version"], before["state"])
    assert count(world, MEASUREMENT) == 0 and count(world, ADJUSTMENT) == 0


def test_the_diagram_draws_every_state_and_transition_and_marks_the_current_one(
    client: TestClient, world: World
) -> None:
    start(client, world, world.zhang_plan)
    svg = client.get(f"/plans/{world.zhang_plan}").text.split('<svg class="diagram"')[1]
    svg = svg.split("</svg>")[0]
    assert svg.count('<g class="state') == 5
    assert svg.count('<g class="edge') == 5  # agree, start, adjust, reconfirm, evaluate
    assert svg.count('<g class="edge back"') == 1  # reconfirm goes back to in progress
    assert 'class="state current" data-state="in_progress"' in svg
    assert svg.count("current") == 1


# The limits of the API hold for the forms too --------------------------------


@pytest.mark.parametrize(
    ("who", "what", "fields", "sentence"),
    [
        (
            "li",
            "coaching",
            {"notes": "A talk", "minutes": str(10**23)},
            "minutes: must be at most 600",
        ),
        ("li", "coaching", {"notes": "Pause\x00"}, "notes: a NUL character cannot be stored"),
        ("li", "measure", {"goal": "contracts", "value": "nan"}, "value: must be a finite number"),
        ("li", "measure", {"goal": "contracts", "value": "inf"}, "value: must be a finite number"),
        ("li", "measure", {"goal": "contracts", "value": "70", "note": "\x00"}, "note: a NUL"),
        (
            "li",
            "milestone",
            {"milestone": "training_attended", "comment": "\x00"},
            "comment: a NUL",
        ),
        ("li", "fire", {"event": "adjust", "comment": "x" * 4001}, "comment: 4001 characters"),
        (
            "li",
            "fire",
            {"event": "adjust", "input.why": "\x00"},
            "a NUL character cannot be stored",
        ),
        (
            "li",
            "adjust",
            {"target": "milestone:report_2", "field": "title", "value": "\x00", "reason": "x"},
            "value.title: a NUL character cannot be stored",
        ),
        (
            "zhang",
            "progress",
            {"summary": "x" * 900_000},
            "summary: 900000 characters, more than the 4000 allowed",
        ),
        ("zhang", "progress", {"summary": "Done\x00"}, "summary: a NUL character cannot be stored"),
        ("zhang", "progress", {"summary": "Done", "blockers": "\x00"}, "blockers: a NUL character"),
    ],
)
def test_a_form_refuses_what_the_api_refuses_naming_the_field(
    client: TestClient, world: World, who: str, what: str, fields: dict[str, str], sentence: str
) -> None:
    """Coaching minutes beyond any talk's length and a measured NaN answered 500; a 900 KB
    summary and NUL characters were stored: the forms take the API's own models."""
    plan = world.zhang_plan
    start(client, world, plan)
    before = plan_row(world, plan)
    answer = post(client, world, plan, what, sign_in(client, world, who), **fields)
    assert answer.status_code == 422, answer.status_code
    assert sentence in unescape(answer.text)
    assert 'id="plan-state"' in answer.text  # the plan again, with the reason
    after = plan_row(world, plan)
    assert (after["version"], after["state"]) == (before["version"], before["state"])
    assert count(world, COACHING_SESSION) == 0 and count(world, PROGRESS_REPORT) == 0
    assert count(world, MEASUREMENT) == 0 and count(world, ADJUSTMENT) == 0
