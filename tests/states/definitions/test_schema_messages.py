"""The schema's problems as sentences: each mismatch with its code, path and line, all at once."""

from __future__ import annotations

from tests.states.definitions.support import TINY, problems_of


def test_schema_problems_are_all_reported_together_with_lines() -> None:
    text = TINY + (
        "states:\n"
        "  open: {label: {en: Open, zh-CN: 开}, initial: on, colour: red}\n"
        "  closed: {final: true}\n"
        "transitions: []\n"
    )
    problems = problems_of(text)

    assert {(p.code, p.path, p.line) for p in problems} == {
        ("BAD_TYPE", "states.open.initial", 7),
        ("UNKNOWN_FIELD", "states.open.colour", 7),
        ("MISSING_FIELD", "states.closed.label", 8),
    }


def test_keys_that_are_not_names_are_reported_on_their_mapping() -> None:
    text = TINY + (
        "states:\n"
        "  open: {label: {en: Open, zh-CN: 开, 3: three}, initial: true}\n"
        "  closed: {label: {en: Closed, zh-CN: 关}, final: true}\n"
        "transitions: []\n"
        "7: seven\n"
    )
    problems = problems_of(text)

    assert {(p.code, p.path, p.line) for p in problems} == {
        ("BAD_TYPE", "states.open.label", 7),
        ("BAD_TYPE", "$", 1),
    }
    assert all("must be a name" in p.message for p in problems)


def test_an_announcement_missing_its_roles_says_how_to_write_them() -> None:
    text = TINY + (
        "states:\n"
        "  open: {label: {en: Open, zh-CN: 开}, initial: true}\n"
        "  closed: {label: {en: Closed, zh-CN: 关}, final: true}\n"
        "transitions:\n"
        "  - trigger: close\n"
        "    source: open\n"
        "    dest: closed\n"
        "    roles: [manager]\n"
        "    flows: [announce]\n"
        "    announce: {message: plan_started}\n"
    )
    [problem] = problems_of(text)

    assert (problem.code, problem.path, problem.line) == (
        "MISSING_FIELD",
        "transitions[0].announce.to",
        15,
    )
    assert problem.message == "an announcement needs 'to'; add `to: [employee, manager]`"
