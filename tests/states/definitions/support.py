"""What the definition tests share: the bad files, the shipped definitions, a tiny
definition's head, and the problems of a text."""

from __future__ import annotations

from pathlib import Path

import pytest

from states.definitions.loader import parse_definition
from states.errors import DefinitionInvalid, Problem

BAD = Path(__file__).parent / "bad_definitions"
SHIPPED = Path(__file__).resolve().parents[3] / "states" / "definitions" / "builtin"
STANDARD = (SHIPPED / "standard.yaml").read_text(encoding="utf-8")
MARKER = "# <- here"

TINY = """\
name: tiny
version: 1
title: {en: Tiny plan, zh-CN: 小计划}
roles:
  manager: {label: {en: Manager, zh-CN: 经理}}
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(text, source="test.yaml")
    return caught.value.problems
