"""docs/definitions.md keeps up with the code: every problem code the definitions room
can report, and every name a definition may use, is documented there."""

from __future__ import annotations

import re
from pathlib import Path

from states.engine.registry import (
    ACTIONS,
    ACTIVITIES,
    ANNOUNCEMENTS,
    DERIVED_ROLES,
    FLOWS,
    GUARDS,
)

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
