"""The definition routes: list, show, check without installing, install, diagram."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from states.definitions.catalog import BUILTIN_DIR
from tests.conftest import ZHANG_FILE
from tests.perfplan.web.api_support import call, ok, output_in_tmp
from tests.perfplan.web.conftest import World

__all__ = ["output_in_tmp"]

STANDARD = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")
YAML = {"Content-Type": "application/yaml"}
# Version 2 of the standard definition: a reworded title.
STANDARD_V2 = STANDARD.replace("version: 1", "version: 2").replace(
    "en: Standard performance improvement plan", "en: Standard PIP (2027 rules)"
)


@pytest.fixture
def definitions_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "definitions"
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(directory))
    return directory


def test_the_list_names_available_and_installed_versions(client: TestClient, world: World) -> None:
    found = {d["name"]: d for d in ok(client, world, "zhang", "GET", "/api/definitions")}
    assert {"standard", "probation"} <= set(found)
    standard = found["standard"]
    assert (standard["version"], standard["origin"], standard["installed"]) == (1, "builtin", [1])
    assert standard["title"]["zh-CN"] == "标准绩效改进计划"
    assert found["probation"]["installed"] == []


def test_show_gives_the_source_states_and_transitions(client: TestClient, world: World) -> None:
    shown = ok(client, world, "li", "GET", "/api/definitions/standard")
    assert shown["source"] == STANDARD
    assert list(shown["states"])[:2] == ["drafted", "agreed"]
    assert [t["trigger"] for t in shown["transitions"]][:2] == ["agree", "start"]
    assert shown["approval_chains"]["sign_off"]["steps"][1]["roles"] == ["manager", "hr"]
    assert ok(client, world, "li", "GET", "/api/definitions/standard?version=1")["version"] == 1
    for url in ["/api/definitions/nothing", "/api/definitions/standard?version=9"]:
        missing = call(client, world, "li", "GET", url)
        assert missing.status_code == 404
        assert "standard" in missing.json()["detail"]


def test_a_check_lists_every_problem_with_where(client: TestClient, world: World) -> None:
    valid = ok(
        client, world, "adam", "POST", "/api/definitions/check", content=STANDARD, headers=YAML
    )
    assert (valid["valid"], valid["name"], valid["problems"]) == (True, "standard", [])
    broken_text = STANDARD.replace("dest: agreed", "dest: agred").replace(
        "guards: [period_started]", "guards: [period_started, moon_is_full]"
    )
    broken = ok(
        client, world, "adam", "POST", "/api/definitions/check", content=broken_text, headers=YAML
    )
    assert broken["valid"] is False
    codes = {p["code"] for p in broken["problems"]}
    assert len(broken["problems"]) >= 2, broken
    assert all(p["path"] and p["message"] for p in broken["problems"])
    assert any(p["line"] for p in broken["problems"]), codes
    checked = ok(
        client, world, "adam", "POST", "/api/definitions/check", content=STANDARD_V2, headers=YAML
    )
    assert (checked["valid"], checked["version"]) == (True, 2)
    listed = {d["name"]: d for d in ok(client, world, "adam", "GET", "/api/definitions")}
    assert (listed["standard"]["version"], listed["standard"]["installed"]) == (1, [1])
    not_yaml = ok(
        client, world, "adam", "POST", "/api/definitions/check", content=b"a: [1, 2", headers=YAML
    )
    assert not_yaml["valid"] is False and not_yaml["problems"]


def test_a_check_needs_the_admin_role_and_text(client: TestClient, world: World) -> None:
    refused = call(
        client, world, "wang", "POST", "/api/definitions/check", content=STANDARD, headers=YAML
    )
    assert refused.status_code == 403
    for body in [b"\xff\xfe bad", b"   "]:
        answer = call(
            client, world, "adam", "POST", "/api/definitions/check", content=body, headers=YAML
        )
        assert (answer.status_code, answer.json()["field"]) == (422, "body")


def test_an_admin_installs_a_new_version_for_new_plans(
    client: TestClient, world: World, definitions_dir: Path
) -> None:
    installed = ok(
        client, world, "adam", "POST", "/api/definitions", content=STANDARD_V2, headers=YAML
    )
    assert (installed["name"], installed["version"]) == ("standard", 2)
    assert (definitions_dir / "standard.yaml").read_text(encoding="utf-8") == STANDARD_V2
    listed = {d["name"]: d for d in ok(client, world, "adam", "GET", "/api/definitions")}
    assert (listed["standard"]["version"], listed["standard"]["origin"]) == (2, "custom")
    assert listed["standard"]["installed"] == [1, 2]
    again = call(
        client, world, "adam", "POST", "/api/definitions", content=STANDARD_V2, headers=YAML
    )
    assert again.status_code == 201  # the same text twice is one version
    text = ZHANG_FILE.read_text(encoding="utf-8").replace("Zhang San —", "Zhang San (2027) —")
    created = ok(client, world, "wang", "POST", "/api/plans", content=text, headers=YAML)
    shown = ok(client, world, "wang", "GET", f"/api/plans/{created['plan_id']}")
    assert shown["plan"]["definition_version"] == 2
    old = ok(client, world, "wang", "GET", f"/api/plans/{world.zhang_plan}")
    assert old["plan"]["definition_version"] == 1


def test_a_reused_version_number_is_refused(
    client: TestClient, world: World, definitions_dir: Path
) -> None:
    reused = STANDARD.replace("en: Standard performance improvement plan", "en: Other rules")
    answer = call(client, world, "adam", "POST", "/api/definitions", content=reused, headers=YAML)
    assert answer.status_code == 422
    assert "VERSION_REUSED" in answer.json()["problems"][0]
    assert not (definitions_dir / "standard.yaml").exists()
    ok(client, world, "adam", "POST", "/api/definitions", content=STANDARD_V2, headers=YAML)
    other_v2 = STANDARD_V2.replace("2027 rules", "other 2027 rules")
    clash = call(client, world, "adam", "POST", "/api/definitions", content=other_v2, headers=YAML)
    assert clash.status_code == 422
    assert (definitions_dir / "standard.yaml").read_text(encoding="utf-8") == STANDARD_V2


def test_install_refuses_an_unsafe_name_a_stranger_and_no_directory(
    client: TestClient, world: World, definitions_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    escaping = STANDARD.replace("name: standard", "name: ../../etc/evil")
    answer = call(client, world, "adam", "POST", "/api/definitions", content=escaping, headers=YAML)
    assert answer.status_code == 422
    assert "BAD_NAME" in answer.json()["problems"][0]
    assert not definitions_dir.exists()
    refused = call(
        client, world, "wang", "POST", "/api/definitions", content=STANDARD_V2, headers=YAML
    )
    assert refused.status_code == 403
    monkeypatch.delenv("PERFPLAN_DEFINITIONS_DIR")
    unset = call(
        client, world, "adam", "POST", "/api/definitions", content=STANDARD_V2, headers=YAML
    )
    assert unset.status_code == 409
    assert "PERFPLAN_DEFINITIONS_DIR" in unset.json()["detail"]


def test_the_diagram_marks_a_plans_state(client: TestClient, world: World) -> None:
    plain = ok(client, world, "zhang", "GET", "/api/definitions/standard/diagram")
    assert plain["mermaid"].startswith("stateDiagram-v2")
    assert plain["highlight"] is None and "class " not in plain["mermaid"]
    url = f"/api/definitions/standard/diagram?plan={world.zhang_plan}&locale=zh-CN"
    marked = ok(client, world, "zhang", "GET", url)
    assert marked["highlight"] == "drafted"
    assert "class drafted current" in marked["mermaid"]
    assert "草拟中" in marked["mermaid"]
    text = call(client, world, "zhang", "GET", f"{url}&format=text")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == marked["mermaid"]
    other = call(
        client, world, "li", "GET", f"/api/definitions/standard/diagram?plan={world.liu_plan}"
    )
    assert other.status_code == 404
    wrong = call(
        client, world, "zhang", "GET", f"/api/definitions/probation/diagram?plan={world.zhang_plan}"
    )
    assert (wrong.status_code, wrong.json()["field"]) == (422, "plan")
