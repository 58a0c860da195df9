"""Definition files are checked when loaded: every problem, with its code, path, line and fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from states.definitions.compiled import compile_definition
from states.definitions.loader import parse_definition
from states.definitions.rules import check_structure
from states.definitions.schema import DefinitionSpec
from states.definitions.yamlsource import load_yaml
from states.errors import DefinitionInvalid
from tests.states.definitions.support import BAD, MARKER, SHIPPED, STANDARD, problems_of

# file stem -> (path of the problem, text its message must contain); the code is the stem's
# first part in capitals, the line is the one marked `# <- here` in the file.
CASES: dict[str, tuple[str | None, str]] = {
    "yaml_syntax": ("$", "mapping values are not allowed"),
    "not_a_mapping": ("$", "a list"),
    "duplicate_key": ("states.closed", "'closed'"),
    "bad_key": ("states", "'null'"),
    "yaml_recursive": ("roles.again", "roles.again"),
    "yaml_too_large": (None, "aliases"),
    "missing_field": ("transitions[0].dest", "'dest'"),
    "unknown_field": ("states.open.inital", "'inital'"),
    "bad_type": ("states.open.initial", "'yes'"),
    "bad_value": ("version", "the number 0"),
    "unknown_state": ("transitions[1].dest", "'closd'"),
    "unknown_role": ("transitions[0].roles[0]", "'manger'"),
    "unknown_role.may_sign_for": (
        "approval_chains.sign_off.may_sign_for.manager[0]",
        "'department_head'",
    ),
    "unknown_role.notify": ("timers.escalation.milestone_overdue[0].notify[1]", "'hr'"),
    "unknown_role.coach": ("timers.coaching.coach", "'mentor'"),
    "unknown_derived_role": ("roles.head.derived", "'department_haed'"),
    "unknown_guard": ("transitions[0].guards[1]", "'all_goals_measurd'"),
    "unknown_action": ("transitions[0].actions[0]", "'os.system'"),
    "unknown_flow": ("transitions[0].flows[0]", "'anounce'"),
    "unknown_activity": ("states.open.allows[1]", "'report_progres'"),
    "unknown_chain": ("transitions[1].approval", "'sign_of'"),
    "unreachable_state": ("states.limbo", "'limbo'"),
    "dead_end": ("states.paused", "'paused'"),
    "final_has_exit": ("transitions[1].source[1]", "'closed'"),
    "no_initial_state": ("states", "initial: true"),
    "many_initial_states": ("states.draft.initial", "'draft'"),
    "no_final_state": ("states", "final: true"),
    "duplicate_trigger": ("transitions[1].trigger", "'close'"),
    "chain_unknown_role": ("approval_chains.sign_off.steps[1].roles[1]", "'hr'"),
    "bad_quorum": ("approval_chains.sign_off.steps[0].quorum", "3 signature"),
    "bad_duration": ("timers.signature_pending", "'2 bizness days'"),
    "missing_label": ("states.closed.label", "'zh-CN'"),
    "chain_and_roles": ("transitions[0].roles", "'sign_off'"),
    "unused_chain": ("approval_chains.reconfirmation", "'reconfirmation'"),
    "no_source": ("transitions[1].source", "'cancel'"),
    "no_actor": ("transitions[0]", "'close'"),
    "escalation_order": ("timers.escalation.milestone_overdue[2].after", "3 business days"),
    "unknown_announcement": ("transitions[0].announce.message", "did you mean 'plan_agreed'?"),
    "unknown_role.announce": ("transitions[0].announce.to[1]", "'hr'"),
    "announce_without_effect": ("transitions[0].announce", "plan_started"),
    "nothing_to_announce": ("transitions[0].flows[0]", "'close'"),
    "unknown_escalation_kind": (
        "timers.escalation.milestone_overdoo",
        "did you mean 'milestone_overdue'?",
    ),
    "unknown_calendar": ("timers.calendar", "'XX'"),
    "duration_too_long": ("timers.signature_pending", "at most 731 days"),
    "duration_too_long.business_days": (
        "timers.escalation.milestone_overdue[0].after",
        "731 business days",
    ),
    "too_large": ("version", "at most 100000"),
    "escalation_without_timer": (
        "timers.escalation.progress_report_missed",
        "timers.progress_report",
    ),
    "unknown_standing_role": (
        "timers.escalation.milestone_overdue[0].notify[1]",
        "did you mean 'hr'?",
    ),
    "unknown_activity.activities": ("activities.complete_milestones", "'complete_milestone'"),
    "unknown_role.activities": ("activities.complete_milestone[1]", "'mentor'"),
}

REQUIRED_CODES = {
    "YAML_SYNTAX",
    "NOT_A_MAPPING",
    "DUPLICATE_KEY",
    "MISSING_FIELD",
    "UNKNOWN_FIELD",
    "BAD_TYPE",
    "BAD_VALUE",
    "UNKNOWN_STATE",
    "UNKNOWN_ROLE",
    "UNKNOWN_DERIVED_ROLE",
    "UNKNOWN_GUARD",
    "UNKNOWN_ACTION",
    "UNKNOWN_FLOW",
    "UNKNOWN_ACTIVITY",
    "UNKNOWN_CHAIN",
    "UNREACHABLE_STATE",
    "DEAD_END",
    "FINAL_HAS_EXIT",
    "NO_INITIAL_STATE",
    "MANY_INITIAL_STATES",
    "DUPLICATE_TRIGGER",
    "CHAIN_UNKNOWN_ROLE",
    "BAD_QUORUM",
    "BAD_DURATION",
    "MISSING_LABEL",
    "NO_FINAL_STATE",
    "CHAIN_AND_ROLES",
    "UNUSED_CHAIN",
    "ESCALATION_ORDER",
    "UNKNOWN_ANNOUNCEMENT",
    "ANNOUNCE_WITHOUT_EFFECT",
    "NOTHING_TO_ANNOUNCE",
    "UNKNOWN_ESCALATION_KIND",
    "UNKNOWN_CALENDAR",
    "DURATION_TOO_LONG",
    "TOO_LARGE",
    "ESCALATION_WITHOUT_TIMER",
    "UNKNOWN_STANDING_ROLE",
}


def marked_line(text: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if MARKER in line)


@pytest.mark.parametrize("stem", sorted(CASES))
def test_each_bad_file_reports_its_own_code_where_the_mistake_is(stem: str) -> None:
    text = (BAD / f"{stem}.yaml").read_text(encoding="utf-8")
    path, named = CASES[stem]

    problems = problems_of(text)

    assert [p.code for p in problems] == [stem.split(".")[0].upper()]
    problem = problems[0]
    if path is not None:
        assert problem.path == path
    assert problem.line == marked_line(text)
    assert named in problem.message


def test_every_bad_file_is_covered_and_every_required_code_has_one() -> None:
    stems = {p.stem for p in BAD.glob("*.yaml")} - {"several_problems"}
    assert stems == set(CASES)
    assert {stem.split(".")[0].upper() for stem in CASES} >= REQUIRED_CODES


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_files_raise_definition_invalid_and_nothing_else(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        parse_definition(text, source=path.name)
    except DefinitionInvalid as exc:
        assert exc.source == path.name
        assert exc.problems
        assert all(f"{p.code} at {p.path}" in str(exc) for p in exc.problems)
    else:
        pytest.fail(f"{path.name} loaded without problems")


def test_a_file_with_several_problems_reports_them_all_in_file_order() -> None:
    problems = problems_of((BAD / "several_problems.yaml").read_text(encoding="utf-8"))

    assert [(p.code, p.path, p.line) for p in problems] == [
        ("MISSING_LABEL", "title", 4),
        ("UNREACHABLE_STATE", "states.limbo", 9),
        ("UNKNOWN_ROLE", "transitions[0].roles[0]", 15),
        ("UNKNOWN_GUARD", "transitions[0].guards[0]", 16),
        ("UNKNOWN_STATE", "transitions[1].dest", 17),
        ("BAD_DURATION", "timers.signature_pending", 19),
    ]


@pytest.mark.parametrize("name", ["standard", "probation"])
def test_shipped_definitions_load_without_problems(name: str) -> None:
    text = (SHIPPED / f"{name}.yaml").read_text(encoding="utf-8")

    spec = parse_definition(text, source=f"{name}.yaml")
    document, problems = load_yaml(text)

    assert spec.name == name
    assert problems == []
    assert check_structure(spec, document) == []


def test_every_shipped_definition_loads_and_compiles() -> None:
    for path in sorted(SHIPPED.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        compile_definition(parse_definition(text, source=path.name), text)


def test_probation_walks_its_own_path_to_confirmation_or_not() -> None:
    text = (SHIPPED / "probation.yaml").read_text(encoding="utf-8")
    compiled = compile_definition(parse_definition(text, source="probation.yaml"), text)

    state = compiled.initial
    for event in ["agree", "start", "review_midpoint", "resume", "review_final", "confirm"]:
        state = compiled.move(state, event)
    assert state == "confirmed"
    assert compiled.move("mid_review", "decline") == "not_confirmed"
    review = compiled.transition("in_progress", "review_midpoint")
    assert review is not None and "midpoint_reached" in review.guards
    assert compiled.spec.approval_chains.keys() == {"probation_sign_off", "midpoint_agreement"}
    assert compiled.spec.timers.progress_report is not None
    assert compiled.spec.timers.progress_report.every == "P2W"


# --- property: parse_definition returns a spec or raises DefinitionInvalid, nothing else ---

STANDARD_LINES = STANDARD.splitlines(keepends=True)
WORDS = [
    *sorted(set(re.findall(r"[\w-]+", STANDARD))),
    "yes",
    "no",
    "~",
    "null",
    "&a",
    "*a",
    "<<: *a",
    "!!int",
    "!!python/name:os.system",
    "-",
    ":",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "|",
    ">",
    "#",
    "\t",
    "P-1D",
    "0",
    "-1",
]


def parses_or_refuses(text: str) -> None:
    try:
        spec = parse_definition(text, source="fuzz.yaml")
    except DefinitionInvalid as exc:
        assert exc.problems
        assert all(p.code and p.message and p.path for p in exc.problems)
        return
    assert isinstance(spec, DefinitionSpec)
    compile_definition(spec, text)


@st.composite
def mutated_standard(draw: st.DrawFn) -> str:
    lines = list(STANDARD_LINES)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        mutation = draw(
            st.sampled_from(["delete", "duplicate", "swap", "indent", "word", "insert"])
        )
        if mutation == "delete" and len(lines) > 1:
            del lines[at]
        elif mutation == "duplicate":
            lines.insert(at, lines[at])
        elif mutation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif mutation == "indent":
            lines[at] = draw(st.sampled_from(["", " ", "  ", "    "])) + lines[at].lstrip(" ")
        elif mutation == "word":
            words = re.findall(r"[\w-]+", lines[at])
            if words:
                old, new = draw(st.sampled_from(words)), draw(st.sampled_from(WORDS))
                lines[at] = lines[at].replace(old, new, 1)
        else:
            cut = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:cut] + draw(st.text(max_size=8)) + lines[at][cut:]
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_random_text_gives_a_spec_or_definition_invalid(text: str) -> None:
    parses_or_refuses(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_standard())
def test_mutated_standard_gives_a_spec_or_definition_invalid(text: str) -> None:
    parses_or_refuses(text)
