"""A plan document holds numbers a target can be, days written as days, bounded texts and
lists, and no more than a plan needs: anything else is refused with the place named,
before a byte is stored (docs/plan-format.md, Limits)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from people.directory import KEY_LENGTH
from states.errors import InvalidDocument
from states.plans import bounds
from states.plans.opening import read_document, read_document_file
from tests.conftest import ZHANG_FILE


def _zhang() -> dict[str, Any]:
    data = yaml.safe_load(ZHANG_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _refusal(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidDocument) as refused:
        read_document(json.dumps(data, default=str), source="plan.json")
    return str(refused.value)


def test_zhangs_plan_is_within_every_bound() -> None:
    document = read_document(json.dumps(_zhang(), default=str), source="plan.json")

    assert document.goals[0].target == _zhang()["goals"][0]["target"]


@pytest.mark.parametrize("written", [".nan", ".inf", "-.inf", ".NaN"])
def test_a_target_that_is_not_a_finite_number_is_refused_in_yaml(written: str) -> None:
    text = ZHANG_FILE.read_text(encoding="utf-8")
    target = f"target: {_zhang()['goals'][0]['target']}"
    assert target in text

    with pytest.raises(InvalidDocument) as refused:
        read_document(text.replace(target, f"target: {written}", 1), source="plan.yaml")

    assert "goals.0.target" in str(refused.value)
    assert "finite" in str(refused.value)


@pytest.mark.parametrize("written", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused(written: str) -> None:
    text = json.dumps(_zhang(), default=str)
    baseline = f'"baseline": {json.dumps(_zhang()["goals"][0]["baseline"])}'
    assert baseline in text

    with pytest.raises(InvalidDocument) as refused:
        read_document(text.replace(baseline, f'"baseline": {written}', 1), source="plan.json")

    assert "goals.0.baseline" in str(refused.value)


@pytest.mark.parametrize(
    ("value", "said"),
    [(1e16, "must be at most"), (True, "not a number"), (-1e300, "must be at least")],
)
def test_a_target_no_measure_can_have_is_refused(value: object, said: str) -> None:
    data = _zhang()
    data["goals"][0]["target"] = value

    refusal = _refusal(data)

    assert "goals.0.target" in refusal
    assert said in refusal


@pytest.mark.parametrize("day", [0, "0", 1767225600, "20261231", "2026-W01-1"])
def test_a_number_is_not_a_day(day: object) -> None:
    data = _zhang()
    data["goals"][0]["deadline"] = day

    refusal = _refusal(data)

    assert "goals.0.deadline" in refusal
    assert "not a date (YYYY-MM-DD)" in refusal


@pytest.mark.parametrize(
    ("place", "size"),
    [
        (("title",), bounds.NAME_LIMIT + 1),
        (("goals", 0, "title"), bounds.NAME_LIMIT + 1),
        (("diagnosis", "problems", 0, "description"), bounds.TEXT_LIMIT + 1),
        (("people", 0, "name"), bounds.NAME_LIMIT + 1),
    ],
)
def test_texts_are_bounded(place: tuple[str | int, ...], size: int) -> None:
    data = _zhang()
    holder: Any = data
    for step in place[:-1]:
        holder = holder[step]
    holder[place[-1]] = "x" * size

    assert ".".join(map(str, place)) + ":" in _refusal(data)


def test_an_empty_title_is_refused() -> None:
    data = _zhang()
    data["title"] = ""

    assert "title:" in _refusal(data)


@pytest.mark.parametrize(
    ("field", "most"),
    [("goals", bounds.MAX_GOALS), ("actions", bounds.MAX_ACTIONS), ("people", bounds.MAX_PEOPLE)],
)
def test_a_plan_has_at_most_so_many_goals_actions_and_people(field: str, most: int) -> None:
    data = _zhang()
    data[field] = [data[field][0]] * (most + 1)

    refusal = _refusal(data)

    assert f"{field}:" in refusal
    assert str(most) in refusal


def test_a_period_longer_than_a_plan_runs_is_refused() -> None:
    data = _zhang()
    data["period"] = {"start": "2026-01-01", "end": "2029-01-01"}

    assert "period:" in _refusal(data)


def _ten_thousand_goals() -> str:
    goal = _zhang()["goals"][0]
    goals = "\n".join(
        f"  - {{key: g{n}, title: t, metric: m, unit: u, target: 1, direction: raise, "
        f"deadline: {goal['deadline']}}}"
        for n in range(10_000)
    )
    return "title: huge\nperiod: {start: 2026-09-01, end: 2026-12-01}\nroles: {}\ngoals:\n" + goals


def test_ten_thousand_goals_are_refused_for_what_they_are_not_for_aliases() -> None:
    with pytest.raises(InvalidDocument) as refused:
        read_document(_ten_thousand_goals(), source="huge.yaml")

    said = str(refused.value)
    assert "aliases" not in said
    assert f"more than the {bounds.MAX_DOCUMENT_BYTES:,} a plan may be" in said


def test_the_same_ten_thousand_goals_as_json_are_refused_too() -> None:
    goal = {"key": "g", "title": "t", "metric": "m", "unit": "u", "target": 1}
    document = {**_zhang(), "goals": [{**goal, "key": f"g{n}"} for n in range(10_000)]}

    assert "a plan may be" in _refusal(document)


def test_a_document_holding_more_values_than_any_plan_is_not_said_to_be_an_alias_bomb() -> None:
    values = ",".join("1" * 110_000)

    with pytest.raises(InvalidDocument) as refused:
        read_document(f"title: many\nnotes: [{values}]", source="many.yaml")

    assert "aliases" not in str(refused.value)
    assert "more than 100,000 values" in str(refused.value)


def test_an_alias_bomb_is_still_named_for_its_aliases() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 10)}]\n" for n in range(6)
    )

    with pytest.raises(InvalidDocument) as refused:
        read_document(bomb, source="bomb.yaml")

    assert "check its aliases" in str(refused.value)


def test_a_document_larger_than_a_plan_may_be_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("w", encoding="utf-8") as out:
        out.write("title: huge\n")
        out.seek(bounds.MAX_DOCUMENT_BYTES + 10)
        out.write("\n")

    with pytest.raises(InvalidDocument) as refused:
        read_document_file(huge)

    assert f"more than the {bounds.MAX_DOCUMENT_BYTES:,}" in str(refused.value)


def test_the_documented_limits_are_the_codes() -> None:
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "plan-format.md").read_text(encoding="utf-8")
    limits = text.split("## Limits", 1)[1]
    rows = {
        "the file or request body": f"{bounds.MAX_DOCUMENT_BYTES // 1024} KB",
        "a text (a title, a note, evidence)": f"{bounds.TEXT_LIMIT:,} characters",
        "a name": f"{bounds.NAME_LIMIT} characters",
        "a key (a person, a goal, a milestone)": f"{KEY_LENGTH} characters",
        "goals": f"{bounds.MAX_GOALS}",
        "milestones per goal": f"{bounds.MAX_MILESTONES}",
        "actions": f"{bounds.MAX_ACTIONS}",
        "people, departments": f"{bounds.MAX_PEOPLE}, {bounds.MAX_DEPARTMENTS}",
        "evidence, problems": f"{bounds.MAX_ENTRIES} each",
        "holders of a role, collaborators or resources of an action": f"{bounds.MAX_MEMBERS}",
        "the period": f"at most {bounds.MAX_PERIOD_DAYS} days",
    }
    for what, limit in rows.items():
        assert f"| {what} | {limit}" in limits, what
    assert bounds.NUMBER_LIMIT == 10**15 and "10¹⁵" in limits
