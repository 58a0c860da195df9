"""`perfplan plan create` and `people` refuse what a plan document or a key may not do
(issue 13, holes found), each in one sentence per problem, with the exit code of its kind,
and store nothing: a change to existing people or departments is forbidden (exit 4); a
definition given as a path, a person under the automation's key, and people who cannot
complete a chain are bad input (exit 2)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import ZHANG_FILE, Cli
from tests.perfplan.cli.conftest import zhangs_plan

ZHANG = ZHANG_FILE.read_text(encoding="utf-8")


def _create(cli: Cli, path: Path, text: str) -> tuple[int, str]:
    path.write_text(text, encoding="utf-8")
    before = cli("plan", "list", "--json").json(), cli("people", "list", "--json").json()
    result = cli("plan", "create", str(path), "--as", "wang", "--now", "2026-08-25T09:00")
    if result.code != 0:
        after = cli("plan", "list", "--json").json(), cli("people", "list", "--json").json()
        assert after == before
    return result.code, result.err


def test_a_document_that_changes_a_manager_or_a_head_is_forbidden(
    initialised: Cli, tmp_path: Path
) -> None:
    zhangs_plan(initialised)
    line = "department: Sales East, manager: sun}\n  - {key: sun"
    assert line in ZHANG
    text = ZHANG.replace(line, line.replace("manager: sun", "manager: wang"))
    text = text.replace("{name: Technical Support}", "{name: Technical Support, head: li}")

    code, err = _create(initialised, tmp_path / "takeover.yaml", text)

    assert code == 4, err
    assert (
        "people.li.manager: Li Wei already exists with manager sun; "
        "a plan document does not change existing people"
    ) in err
    assert (
        "departments.Technical Support.head: Technical Support already exists with no head" in err
    )


def test_the_same_document_twice_opens_two_plans(initialised: Cli, tmp_path: Path) -> None:
    zhangs_plan(initialised)

    assert _create(initialised, tmp_path / "again.yaml", ZHANG)[0] == 0


def test_a_definition_given_as_a_path_is_refused_unread(initialised: Cli, tmp_path: Path) -> None:
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: evil\nversion: 1\nsecret: TOP-SECRET\n", encoding="utf-8")
    for named in (str(tmp_path / "evil"), "../../evil", str(evil)):
        text = ZHANG.replace("definition: standard\n", f"definition: '{named}'\n")

        code, err = _create(initialised, tmp_path / "plan.yaml", text)

        assert code == 2, err
        # The name is quoted up to its first 80 characters (a path can be long).
        assert f"definition: '{named[:80]}' is not the name of a definition" in err
        assert "TOP-SECRET" not in err


def test_no_one_is_created_or_added_under_the_automations_key(
    initialised: Cli, tmp_path: Path
) -> None:
    data = yaml.safe_load(ZHANG)
    data["people"].append({"key": "system", "name": "Mallory", "email": "m@example.com"})
    data["roles"]["mentor"] = "system"

    code, err = _create(initialised, tmp_path / "system.yaml", yaml.safe_dump(data))

    assert code == 2, err
    assert "'system' is reserved for perfplan's own automation" in err
    added = initialised("people", "add", "system", "--name", "M", "--email", "m@example.com")
    assert added.code == 2 and "reserved for perfplan's own automation" in added.err
    token = initialised("token", "create", "system", "--name", "t")
    assert token.code == 2 and "perfplan's own automation" in token.err


def test_a_manager_who_is_also_the_hr_partner_is_refused(initialised: Cli, tmp_path: Path) -> None:
    code, err = _create(
        initialised, tmp_path / "same.yaml", ZHANG.replace("  manager: li\n", "  manager: wang\n")
    )

    assert code == 2, err
    assert "roles: wang is both manager and hr; 'agree' needs two different signers" in err
