"""The structural rules between a definition's parts, and the sentences they say."""

from __future__ import annotations

from states.definitions.loader import parse_definition
from states.definitions.rules import check_structure
from states.definitions.yamlsource import YamlDocument
from tests.states.definitions.support import STANDARD, problems_of


def test_a_typo_gets_a_suggestion_and_the_known_names() -> None:
    text = STANDARD.replace(
        "dest: in_progress\n    roles: [manager, hr]", "dest: in_progres\n    roles: [manager, hr]"
    )
    [problem] = [p for p in problems_of(text) if p.code == "UNKNOWN_STATE"]

    assert problem.message.startswith(
        "state 'in_progres' is not defined; did you mean 'in_progress'?"
    )
    assert "Known states: drafted, agreed, in_progress, adjusted, evaluated" in problem.message


def test_structure_checks_need_no_line_numbers() -> None:
    spec = parse_definition(STANDARD, source="standard.yaml")
    broken = spec.model_copy(update={"states": {**spec.states, "limbo": spec.states["evaluated"]}})

    [problem] = check_structure(broken, YamlDocument(None))

    assert (problem.code, problem.path, problem.line) == ("UNREACHABLE_STATE", "states.limbo", None)
