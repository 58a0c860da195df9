"""The table of plan activities: each declared once, and every door built on it — the
API's bodies are the activities' models, the plan page's forms and the CLI perform the
same activities, and a refusal reads as a sentence naming its field."""

from __future__ import annotations

import inspect

import pytest

from models.db import make_engine
from perfplan.activities import ACTIVITIES, AdjustmentRequest
from perfplan.web.api.plans import ACTIVITY_ROUTES
from perfplan.web.app import create_app
from perfplan.web.pages.plans import FORMS
from perfplan.web.runtime import Runtime
from states.errors import InvalidInput


def test_every_models_fields_are_its_services_keyword_arguments() -> None:
    for activity in ACTIVITIES.values():
        takes = set(inspect.signature(activity.service).parameters)
        given = {"session", "plan_id", "actor", "now", *activity.body.model_fields}
        given |= {activity.key} if activity.key else set()
        assert given <= takes, (activity.name, given - takes)


def test_the_api_takes_each_activitys_own_model_as_its_body() -> None:
    document = create_app(Runtime(engine=make_engine("sqlite://"))).openapi()
    assert {route.activity for route in ACTIVITY_ROUTES} == set(ACTIVITIES)
    for route in ACTIVITY_ROUTES:
        operation = document["paths"][f"/api/plans{route.path}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{ACTIVITIES[route.activity].body.__name__}"}
        assert operation["operationId"].startswith(route.activity)


def test_the_pages_forms_perform_the_tables_activities() -> None:
    assert all(form.activity is ACTIVITIES[form.activity.name] for form in FORMS.values())
    # Confirming adjustments and evaluating are the sign and fire forms of the page.
    assert {form.activity.name for form in FORMS.values()} == set(ACTIVITIES) - {
        "confirm_adjustments",
        "evaluate",
    }


@pytest.mark.parametrize(
    ("activity", "fields", "key", "sentence"),
    [
        ("record_coaching", {"minutes": 601}, None, "minutes: must be at most 600"),
        ("record_coaching", {"minutes": 0}, None, "minutes: must be at least 1"),
        ("report_progress", {"summary": ""}, None, "summary: must not be empty"),
        ("report_progress", {}, None, "summary: is required"),
        (
            "report_progress",
            {"summary": "x" * 4001},
            None,
            "summary: 4001 characters, more than the 4000 allowed",
        ),
        ("report_progress", {"summary": "\x00"}, None, "summary: a NUL character cannot be stored"),
        ("measure", {"goal": "g", "value": float("inf")}, None, "value: must be a finite number"),
        ("measure", {"goal": "g", "value": "lots"}, None, "value: 'lots' is not a number"),
        (
            "fire",
            {"inputs": {"outcome": "\x00"}},
            "evaluate",
            "inputs.outcome: a NUL character cannot be stored",
        ),
        ("fire", {"inputs": {"\x00": "x"}}, "evaluate", "inputs (a key): a NUL character"),
        ("fire", {}, "", "event: must not be empty"),
        ("complete_milestone", {}, "m" * 201, "milestone: 201 characters, more than the 200"),
        ("sign", {"expected_version": 2**31}, None, "expected_version: must be at most 2147483647"),
        ("sign", {"evnt": "agree"}, None, "evnt: Extra inputs are not permitted"),
        ("evaluate", {"outcome": "great"}, None, "outcome: must be 'successful', 'extended' or"),
    ],
)
def test_a_refusal_is_a_sentence_naming_the_field(
    activity: str, fields: dict[str, object], key: str | None, sentence: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        ACTIVITIES[activity].parse(fields, key=key)
    assert str(refused.value).startswith(sentence)


def test_goals_stay_fixed_at_every_door() -> None:
    with pytest.raises(InvalidInput) as refused:
        ACTIVITIES["adjust"].parse(
            {"kind": "goal", "key": "contracts", "changes": {"target": "90"}, "reason": "x"}
        )
    assert str(refused.value) == (
        "kind: goals stay fixed while a plan runs; adjust its milestones or actions"
    )
    proposal = {"kind": "action", "key": "a", "changes": {"title": "t"}, "reason": "r"}
    assert ACTIVITIES["adjust"].parse(proposal) == AdjustmentRequest.model_validate(proposal)


def test_a_door_names_a_field_its_own_way() -> None:
    with pytest.raises(InvalidInput) as refused:
        ACTIVITIES["report_progress"].parse(
            {"summary": "ok", "expected_version": 0}, called={"expected_version": "version"}
        )
    assert str(refused.value) == "version: must be at least 1"
