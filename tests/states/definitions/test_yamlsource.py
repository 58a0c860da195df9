"""Safe YAML 1.2 loading: text stays text, lines are remembered, and bad YAML is a problem."""

from __future__ import annotations

import pytest

from states.definitions.loader import parse_definition
from states.definitions.yamlsource import load_yaml
from states.errors import DefinitionInvalid
from tests.states.definitions.support import BAD, STANDARD, TINY, problems_of


def test_yes_no_on_off_stay_text() -> None:
    text = TINY + (
        "states:\n"
        "  on: {label: {en: no, zh-CN: 否}, initial: true}\n"
        "  off: {label: {en: yes, zh-CN: 是}, final: true}\n"
        "transitions:\n"
        "  - {trigger: switch, source: on, dest: off, roles: [manager]}\n"
    )
    spec = parse_definition(text, source="switch.yaml")

    assert list(spec.states) == ["on", "off"]
    assert spec.states["on"].label["en"] == "no"
    assert spec.states["off"].label["en"] == "yes"
    assert spec.states["on"].initial is True


def test_scalars_follow_yaml_1_2() -> None:
    document, problems = load_yaml("a: 010\nb: 10:30\nc: 0x1f\nd: True\ne: n\nf: ~\ng: =\n")

    assert problems == []
    assert document.data == {
        "a": 10,
        "b": "10:30",
        "c": 31,
        "d": True,
        "e": "n",
        "f": None,
        "g": "=",
    }


def test_lines_of_keys_and_items_are_recorded() -> None:
    document, _ = load_yaml(STANDARD)
    lines = STANDARD.splitlines()

    line = document.line(("transitions", 2, "dest"))
    assert line is not None
    assert lines[line - 1].strip() == "dest: adjusted"
    item = document.line(("transitions", 2))
    assert item is not None
    assert lines[item - 1].strip() == "- trigger: adjust"
    # A path the file does not spell out falls back to its nearest ancestor.
    assert document.line(("transitions", 2, "inputs", "outcome")) == item


def test_duplicate_key_names_the_first_occurrence() -> None:
    [problem] = problems_of((BAD / "duplicate_key.yaml").read_text(encoding="utf-8"))

    assert "first on line 9" in problem.message


def test_syntax_error_is_a_problem_with_a_line_not_a_traceback() -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition("name: x\nstates:\n  open: [a, b\n", source="broken.yaml")

    [problem] = caught.value.problems
    assert problem.code == "YAML_SYNTAX"
    assert problem.line == 4
    assert "Traceback" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_unsafe_tags_are_refused_not_run() -> None:
    text = STANDARD.replace("name: standard", "name: !!python/object/apply:os.getcwd []")

    [problem] = problems_of(text)
    assert problem.code == "YAML_SYNTAX"
    assert problem.path == "name"
    assert "python/object/apply:os.getcwd" in problem.message


def test_empty_file_is_not_a_mapping() -> None:
    [problem] = problems_of("# nothing here\n")

    assert problem.code == "NOT_A_MAPPING"
    assert "empty" in problem.message
