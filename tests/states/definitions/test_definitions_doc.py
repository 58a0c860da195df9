"""docs/definitions.md keeps up with the code: every problem code the definitions room
can report, and every name a definition may use, is documented there; its examples
check as it says, and the mentored example definition uses only what it documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from states.definitions.loader import parse_definition
from states.engine.registry import (
    ACTIONS,
    ACTIVITIES,
    ANNOUNCEMENTS,
    DERIVED_ROLES,
    ESCALATIONS,
    FLOWS,
    GUARDS,
    STANDING_ROLES,
)
from states.errors import DefinitionInvalid
from tests.conftest import cli_runner

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "definitions.md").read_text(encoding="utf-8")
CODE = re.compile(r'"([A-Z][A-Z_]+[A-Z])"')


def documented_codes() -> set[str]:
    return set(re.findall(r"^\| `([A-Z_]+)` \|", DOC, flags=re.MULTILINE))


def test_every_problem_code_is_documented_with_its_fix() -> None:
    sources = (ROOT / "states" / "definitions").glob("*.py")
    raised = {code for path in sources for code in CODE.findall(path.read_text("utf-8"))}

    assert raised, "no codes found: the pattern no longer matches the source"
    assert raised - documented_codes() == set()
    assert documented_codes() - raised == set()


def test_every_name_a_definition_may_use_is_documented() -> None:
    names = [*ANNOUNCEMENTS, *GUARDS, *ACTIONS, *ACTIVITIES, *FLOWS, *DERIVED_ROLES]

    assert [name for name in names if f"`{name}`" not in DOC] == []


YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
STANDARD_TEXT = (ROOT / "states" / "definitions" / "builtin" / "standard.yaml").read_text("utf-8")


def _merged(base: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """`part` put into `base`: mappings merged, transitions added or replacing theirs."""
    merged = dict(base)
    for key, value in part.items():
        if key == "transitions":
            kept = [t for t in base[key] if t["trigger"] not in {v["trigger"] for v in value}]
            merged[key] = kept + value
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merged(base[key], value)
        else:
            merged[key] = value
    return merged


def _as_definition(block: str) -> str:
    """A whole definition as it is, any other block put into the standard one."""
    part = yaml.safe_load(block)
    if "name" in part:
        return block
    return yaml.safe_dump(_merged(yaml.safe_load(STANDARD_TEXT), part), allow_unicode=True)


def test_every_example_of_the_page_has_no_problem_or_exactly_those_it_names() -> None:
    blocks = YAML_BLOCK.findall(DOC)
    assert len(blocks) >= 8, "the examples were not found"
    for block in blocks:
        named = re.match(r"# problems: (.*)\n", block)
        try:
            parse_definition(_as_definition(block), source="docs/definitions.md")
        except DefinitionInvalid as invalid:
            assert named, f"{invalid.problems} in\n{block}"
            assert [p.code for p in invalid.problems] == named[1].split(", ")
        else:
            assert named is None, block


def test_the_page_shows_what_config_check_says(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'perfplan.db'}")
    cli = cli_runner(capsys)
    block = next(b for b in YAML_BLOCK.findall(DOC) if b.startswith("# problems:"))
    (tmp_path / "tiny.yaml").write_text(block, encoding="utf-8")
    shown = re.search(r"^```text\n(FAIL  tiny\.yaml.*?)^```", DOC, re.MULTILINE | re.DOTALL)
    assert shown is not None

    result = cli("config", "check", str(tmp_path / "tiny.yaml"), "--json")

    assert result.code == 2
    [entry] = result.json()
    said = [
        f"{p['code']} at {p['path']} (line {p['line']}): {p['message']}" for p in entry["problems"]
    ]
    assert [line.strip() for line in shown[1].splitlines()[1:]] == said


def test_the_mentored_example_uses_only_what_the_page_documents() -> None:
    text = (ROOT / "docs" / "examples" / "definitions" / "mentored.yaml").read_text("utf-8")
    spec = parse_definition(text, source="mentored.yaml")

    assert set(spec.timers.escalation) - {"milestone_overdue"}, "no other escalation kind"
    assert spec.activities
    names = [*ESCALATIONS, *(f"standing:{role}" for role in STANDING_ROLES)]
    assert [name for name in names if f"`{name}`" not in DOC] == []
    assert all(f"`{kind}`" in DOC for kind in spec.timers.escalation)
