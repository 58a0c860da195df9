"""Every problem of a definition file at once, each with a code, a path, a line and a fix.

`schema_problems` turns pydantic's errors into sentences; `check_structure` then runs one
`_check_*` function per rule between the parts (known states, roles, guards, reachability,
durations, labels, ...).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from states.definitions.durations import Duration, parse_duration
from states.definitions.schema import (
    LOCALES,
    ApprovalChain,
    Cadence,
    ChainStep,
    DefinitionSpec,
    InputSpec,
    Label,
    RoleSpec,
    Rung,
    StateSpec,
    Timers,
    TransitionSpec,
)
from states.definitions.yamlsource import Path, YamlDocument, dotted
from states.engine.registry import ACTIONS, ACTIVITIES, DERIVED_ROLES, FLOWS, GUARDS
from states.errors import Problem

# Roles every definition knows without declaring them: flows fire events as "system".
BUILTIN_ROLES = ("system",)

Check = Callable[[DefinitionSpec, YamlDocument], Iterator[Problem]]


def _at(document: YamlDocument, code: str, path: Path, message: str) -> Problem:
    return Problem(code, dotted(path), message, document.line(path))


def _unknown(
    kind: str, name: str, known: Iterable[str], *, plural: str = "", verb: str = "defined"
) -> str:
    """`state 'x' is not defined; did you mean 'y'? Known states: ...`"""
    names = list(known)
    close = difflib.get_close_matches(name, names, n=1)
    listed = f"{plural or kind + 's'}: {', '.join(names) or 'none'}"
    if close:
        return f"{kind} '{name}' is not {verb}; did you mean '{close[0]}'? Known {listed}"
    return f"{kind} '{name}' is not {verb}; known {listed}"


def _in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    """Sorted by line, problems without one last; the sort is stable within a line."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


# --- the schema ---------------------------------------------------------------------------

_NOUNS: dict[type[BaseModel], str] = {
    DefinitionSpec: "the definition",
    RoleSpec: "a role",
    StateSpec: "a state",
    TransitionSpec: "a transition",
    InputSpec: "an input",
    ApprovalChain: "an approval chain",
    ChainStep: "an approval step",
    Rung: "an escalation rung",
    Cadence: "a cadence",
    Timers: "timers",
}
_MAPPING = "a mapping of `key: value` lines"
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "list_type": "a list, such as [a, b]",
}
_EXAMPLES = {
    "label": "{en: ..., zh-CN: ...}",
    "title": "{en: ..., zh-CN: ...}",
    "roles": "[employee, manager]",
    "steps": "[{roles: [employee]}]",
    "notify": "[manager]",
    "after": "3 business days",
    "every": "P1W",
    "version": "1",
}


def _unwrap(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, UnionType):
        others = [arg for arg in get_args(annotation) if arg is not NoneType]
        return others[0] if len(others) == 1 else None
    return annotation


def _step_into(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    if get_origin(annotation) in (list, dict):
        return get_args(annotation)[-1]
    return None


def _model_at(loc: Path) -> type[BaseModel] | None:
    """The schema's model for the mapping at `loc`, if there is one."""
    annotation: Any = DefinitionSpec
    for part in loc:
        annotation = _step_into(annotation, part)
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _described(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, date):
        return f"the date {value}"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _type_hint(expected: str, value: Any) -> str:
    if expected == "true or false" and isinstance(value, str):
        return "; write true or false (yes, no, on and off are text in these files)"
    if expected == "text" and value is not None and not isinstance(value, dict | list):
        return f"; put it in quotes: '{value}'"
    if expected == "a whole number" and isinstance(value, str):
        return "; remove the quotes"
    return "; fill in a value" if value is None else ""


def _noun(model: type[BaseModel] | None) -> str:
    return _NOUNS.get(model, "this mapping") if model else "this mapping"


def _missing(loc: Path) -> tuple[str, str]:
    noun = _noun(_model_at(loc[:-1]))
    name = str(loc[-1])
    return "MISSING_FIELD", f"{noun} needs '{name}'; add `{name}: {_EXAMPLES.get(name, '...')}`"


def _extra(loc: Path) -> tuple[str, str]:
    model = _model_at(loc[:-1])
    fields = list(model.model_fields) if model else []
    noun = _noun(model)
    name = str(loc[-1])
    close = difflib.get_close_matches(name, fields, n=1)
    listed = f"fields are: {', '.join(fields)}"
    fix = f"did you mean '{close[0]}'? Its {listed}" if close else f"remove it; its {listed}"
    return "UNKNOWN_FIELD", f"{noun} has no field '{name}'; {fix}"


def _bad_type(error: ErrorDetails) -> tuple[str, str]:
    expected = _EXPECTED[error["type"]]
    value = error.get("input")
    class_name = (error.get("ctx") or {}).get("class_name")
    model = next((m for m in _NOUNS if m.__name__ == class_name), None)
    what = f" ({_NOUNS[model]})" if model else ""
    return (
        "BAD_TYPE",
        f"expected {expected}{what}, got {_described(value)}{_type_hint(expected, value)}",
    )


def _bad_key(error: ErrorDetails) -> tuple[str, str]:
    value = error.get("input")
    return "BAD_TYPE", f"the key {value} must be a name; put it in quotes: '{value}'"


def _bad_value(error: ErrorDetails) -> tuple[str, str]:
    ctx = error.get("ctx") or {}
    if error["type"] == "too_short":
        return "BAD_VALUE", f"needs at least {ctx.get('min_length', 1)} item; this list is empty"
    if error["type"] == "greater_than_equal":
        return (
            "BAD_VALUE",
            f"must be at least {ctx.get('ge')}, got {_described(error.get('input'))}",
        )
    return "BAD_VALUE", f"{error['msg']}; got {_described(error.get('input'))}"


def _schema_problem(document: YamlDocument, error: ErrorDetails) -> Problem:
    loc: Path = tuple(error["loc"])
    if error["type"] == "invalid_key" or loc[-1:] == ("[key]",):
        # The key is in the message; the path is the mapping that holds it.
        loc = tuple(part for part in loc if part != "[key]")[:-1]
        code, message = _bad_key(error)
    elif error["type"] == "missing":
        code, message = _missing(loc)
    elif error["type"] == "extra_forbidden":
        code, message = _extra(loc)
    elif error["type"] in _EXPECTED:
        code, message = _bad_type(error)
    else:
        code, message = _bad_value(error)
    return _at(document, code, loc, message)


def schema_problems(document: YamlDocument) -> tuple[DefinitionSpec | None, list[Problem]]:
    """The definition if the document has its shape, else a problem for every mismatch."""
    try:
        # Strict: a quoted "2" is not a version, and "yes" is not true.
        return DefinitionSpec.model_validate(document.data, strict=True), []
    except ValidationError as exc:
        return None, _in_file_order(_schema_problem(document, error) for error in exc.errors())


# --- helpers for the rules ------------------------------------------------------------------


def _source_paths(
    document: YamlDocument, index: int, transition: TransitionSpec
) -> Iterator[tuple[str, Path]]:
    """Each source state of a transition with its path (`source` may be one name or a list)."""
    base: Path = ("transitions", index, "source")
    if len(transition.source) == 1 and (*base, 0) not in document.lines:
        yield transition.source[0], base  # written as one name
        return
    for position, state in enumerate(transition.source):
        yield state, (*base, position)


def _transition_names(
    spec: DefinitionSpec, field: str
) -> Iterator[tuple[TransitionSpec, str, Path]]:
    """Every name in one list field (guards, actions, ...) of every transition."""
    for index, transition in enumerate(spec.transitions):
        for position, name in enumerate(getattr(transition, field)):
            yield transition, name, ("transitions", index, field, position)


def _registered(
    spec: DefinitionSpec, document: YamlDocument, field: str, registry: dict[str, Any], code: str
) -> Iterator[Problem]:
    kind = field.rstrip("s")
    for transition, name, path in _transition_names(spec, field):
        if name not in registry:
            message = _unknown(kind, name, sorted(registry), verb="registered")
            yield _at(document, code, path, f"transition '{transition.trigger}': {message}")


def _duration(text: str) -> Duration | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None


def _initial_states(spec: DefinitionSpec) -> list[str]:
    return [name for name, state in spec.states.items() if state.initial]


def _states_left(spec: DefinitionSpec) -> set[str]:
    """States that some transition leaves."""
    return {source for transition in spec.transitions for source in transition.source}


# --- states ---------------------------------------------------------------------------------


def _check_initial_state(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    initial = _initial_states(spec)
    if not initial:
        first = next(iter(spec.states), "drafted")
        message = (
            f"no state has `initial: true`; mark the state every plan starts in, e.g. '{first}'"
        )
        yield _at(document, "NO_INITIAL_STATE", ("states",), message)
    for name in initial[1:]:
        message = (
            f"only one state may be initial, yet these say `initial: true`: {', '.join(initial)}; "
            f"remove it from '{name}' unless plans start there"
        )
        yield _at(document, "MANY_INITIAL_STATES", ("states", name, "initial"), message)


def _check_final_state(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    if spec.states and not any(state.final for state in spec.states.values()):
        left = _states_left(spec)
        ends = [name for name in spec.states if name not in left] or [*spec.states][-1:]
        message = (
            "no state has `final: true`, so no plan can ever end; mark the state(s) where "
            f"a plan ends, e.g. '{ends[0]}'"
        )
        yield _at(document, "NO_FINAL_STATE", ("states",), message)


def _check_activities(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for name, state in spec.states.items():
        for position, activity in enumerate(state.allows):
            if activity not in ACTIVITIES:
                message = _unknown("activity", activity, sorted(ACTIVITIES), plural="activities")
                path = ("states", name, "allows", position)
                yield _at(document, "UNKNOWN_ACTIVITY", path, message)


def _check_reachability(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    reached = set(_initial_states(spec))
    if not reached:
        return  # NO_INITIAL_STATE says it
    frontier = list(reached)
    while frontier:
        state = frontier.pop()
        for transition in spec.transitions:
            if state in transition.source and transition.dest not in reached:
                reached.add(transition.dest)
                frontier.append(transition.dest)
    for name in spec.states:
        if name not in reached:
            message = (
                f"state '{name}' cannot be reached from the initial state; add a transition "
                f"with `dest: {name}` from a reachable state, or remove '{name}'"
            )
            yield _at(document, "UNREACHABLE_STATE", ("states", name), message)


def _check_dead_ends(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    left = _states_left(spec)
    for name, state in spec.states.items():
        if not state.final and name not in left:
            message = (
                f"no transition leaves state '{name}', so a plan there would be stuck; add a "
                f"transition with `source: {name}`, or mark it `final: true`"
            )
            yield _at(document, "DEAD_END", ("states", name), message)


# --- transitions ----------------------------------------------------------------------------


def _check_transition_states(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        named = [*_source_paths(document, index, transition)]
        named.append((transition.dest, ("transitions", index, "dest")))
        for state, path in named:
            if state not in spec.states:
                message = _unknown("state", state, spec.states)
                yield _at(document, "UNKNOWN_STATE", path, message)


def _check_sources(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if not transition.source:
            message = (
                f"'{transition.trigger}' has an empty `source`, so it can never happen; "
                "name the state(s) it leaves"
            )
            yield _at(document, "NO_SOURCE", ("transitions", index, "source"), message)


def _check_actors(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if transition.approval is None and not transition.roles:
            message = (
                f"no one may fire '{transition.trigger}': it names neither `roles` nor an "
                "`approval` chain; add `roles: [...]` (`system` for flows) or `approval: ...`"
            )
            yield _at(document, "NO_ACTOR", ("transitions", index), message)


def _check_final_has_exit(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        for state, path in _source_paths(document, index, transition):
            if state in spec.states and spec.states[state].final:
                message = (
                    f"'{state}' is a final state, so '{transition.trigger}' cannot leave it; "
                    f"remove `final: true` from '{state}' or start '{transition.trigger}' elsewhere"
                )
                yield _at(document, "FINAL_HAS_EXIT", path, message)


def _check_duplicate_triggers(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    first: dict[tuple[str, str], int] = {}
    for index, transition in enumerate(spec.transitions):
        for state, _ in _source_paths(document, index, transition):
            earlier = first.setdefault((transition.trigger, state), index)
            if earlier != index:
                message = (
                    f"'{transition.trigger}' from '{state}' is already defined by "
                    f"transitions[{earlier}]; an event leads to one place only: rename one "
                    "trigger or change its source"
                )
                yield _at(document, "DUPLICATE_TRIGGER", ("transitions", index, "trigger"), message)


def _check_transition_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    known = [*spec.roles, *BUILTIN_ROLES]
    for transition, role, path in _transition_names(spec, "roles"):
        if role not in known:
            message = f"transition '{transition.trigger}': {_unknown('role', role, known)}"
            yield _at(document, "UNKNOWN_ROLE", path, message)


def _check_guards(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    yield from _registered(spec, document, "guards", GUARDS, "UNKNOWN_GUARD")


def _check_actions(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    yield from _registered(spec, document, "actions", ACTIONS, "UNKNOWN_ACTION")


def _check_flows(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    yield from _registered(spec, document, "flows", FLOWS, "UNKNOWN_FLOW")


def _check_chain_names(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if transition.approval is not None and transition.approval not in spec.approval_chains:
            message = _unknown("approval chain", transition.approval, spec.approval_chains)
            yield _at(document, "UNKNOWN_CHAIN", ("transitions", index, "approval"), message)


def _check_chain_and_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if transition.approval is not None and transition.roles:
            message = (
                f"'{transition.trigger}' names both an approval chain ('{transition.approval}') "
                "and roles, but the chain's last signer fires it: remove `roles`, or remove "
                "`approval` to let those roles fire it directly"
            )
            yield _at(document, "CHAIN_AND_ROLES", ("transitions", index, "roles"), message)


# --- roles and approval chains --------------------------------------------------------------


def _check_derived_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for name, role in spec.roles.items():
        if role.derived is not None and role.derived not in DERIVED_ROLES:
            message = _unknown("derived role", role.derived, sorted(DERIVED_ROLES), verb="known")
            path = ("roles", name, "derived")
            yield _at(document, "UNKNOWN_DERIVED_ROLE", path, f"role '{name}': {message}")


def _check_chain_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for chain_name, chain in spec.approval_chains.items():
        for index, step in enumerate(chain.steps):
            for position, role in enumerate(step.roles):
                if role not in spec.roles:
                    path = ("approval_chains", chain_name, "steps", index, "roles", position)
                    message = _unknown("role", role, spec.roles)
                    yield _at(document, "CHAIN_UNKNOWN_ROLE", path, message)


def _check_stand_ins(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for chain_name, chain in spec.approval_chains.items():
        base: Path = ("approval_chains", chain_name, "may_sign_for")
        for role, deputies in chain.may_sign_for.items():
            named = [(role, (*base, role))]
            named += [(deputy, (*base, role, i)) for i, deputy in enumerate(deputies)]
            for name, path in named:
                if name not in spec.roles:
                    message = (
                        f"may_sign_for of '{chain_name}': {_unknown('role', name, spec.roles)}"
                    )
                    yield _at(document, "UNKNOWN_ROLE", path, message)


def _check_quorum(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for chain_name, chain in spec.approval_chains.items():
        for index, step in enumerate(chain.steps):
            if step.quorum is None:
                continue
            roles = list(dict.fromkeys(step.roles))
            many = any(spec.roles[r].many for r in roles if r in spec.roles)
            if step.quorum >= 1 and (step.quorum <= len(roles) or many):
                continue
            message = (
                f"step {index + 1} of '{chain_name}' asks for {step.quorum} signature(s) from "
                f"{', '.join(roles)}; a quorum must be at least 1 and at most the number of "
                "roles in the step (unless one of them is `many: true`)"
            )
            path = ("approval_chains", chain_name, "steps", index, "quorum")
            yield _at(document, "BAD_QUORUM", path, message)


def _check_unused_chains(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    used = {transition.approval for transition in spec.transitions}
    for name in spec.approval_chains:
        if name not in used:
            message = (
                f"approval chain '{name}' is not used by any transition; name it in a "
                f"transition's `approval: {name}`, or remove it"
            )
            yield _at(document, "UNUSED_CHAIN", ("approval_chains", name), message)


# --- timers ---------------------------------------------------------------------------------


def _durations(timers: Timers) -> Iterator[tuple[Path, str]]:
    for name in ("progress_report", "coaching"):
        cadence: Cadence | None = getattr(timers, name)
        if cadence is not None:
            yield ("timers", name, "every"), cadence.every
            if cadence.remind_before is not None:
                yield ("timers", name, "remind_before"), cadence.remind_before
    for name in ("milestone_due_soon", "signature_pending"):
        if getattr(timers, name) is not None:
            yield ("timers", name), getattr(timers, name)
    for kind, rungs in timers.escalation.items():
        for index, rung in enumerate(rungs):
            yield ("timers", "escalation", kind, index, "after"), rung.after


def _check_durations(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for path, text in _durations(spec.timers):
        try:
            parse_duration(text)
        except ValueError as exc:
            yield _at(document, "BAD_DURATION", path, str(exc))


def _check_escalation_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for kind, rungs in spec.timers.escalation.items():
        for index, rung in enumerate(rungs):
            for position, role in enumerate(rung.notify):
                if role not in spec.roles:
                    path = ("timers", "escalation", kind, index, "notify", position)
                    yield _at(document, "UNKNOWN_ROLE", path, _unknown("role", role, spec.roles))


def _earlier(later: Duration, earlier: Duration) -> bool:
    """True when `later` is certainly shorter than `earlier` (days and business days apart)."""
    return (
        later != earlier
        and later.delta <= earlier.delta
        and later.business_days <= earlier.business_days
    )


def _check_escalation_order(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for kind, rungs in spec.timers.escalation.items():
        seen: list[tuple[int, Duration]] = []
        for index, rung in enumerate(rungs):
            after = _duration(rung.after)
            if after is None:
                continue  # BAD_DURATION says it
            before = next((i for i, d in seen if _earlier(after, d)), None)
            if before is not None:
                message = (
                    f"rung {index + 1} of '{kind}' fires after {rung.after}, earlier than rung "
                    f"{before + 1} ({rungs[before].after}); order the rungs from first to last"
                )
                path = ("timers", "escalation", kind, index, "after")
                yield _at(document, "ESCALATION_ORDER", path, message)
            seen.append((index, after))


# --- labels ---------------------------------------------------------------------------------


def _labels(spec: DefinitionSpec) -> Iterator[tuple[Path, str, Label]]:
    yield ("title",), "the definition's title", spec.title
    for name, role in spec.roles.items():
        yield ("roles", name, "label"), f"role '{name}'", role.label
    for name, state in spec.states.items():
        yield ("states", name, "label"), f"state '{name}'", state.label
    for index, transition in enumerate(spec.transitions):
        where: Path = ("transitions", index)
        if transition.label is not None:
            yield (*where, "label"), f"transition '{transition.trigger}'", transition.label
        for name, wanted in transition.inputs.items():
            if wanted.label is not None:
                owner = f"input '{name}' of '{transition.trigger}'"
                yield (*where, "inputs", name, "label"), owner, wanted.label


def _check_labels(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for path, owner, label in _labels(spec):
        others = [key for key in label if key not in LOCALES]
        for locale in LOCALES:
            if label.get(locale, "").strip():
                continue
            close = difflib.get_close_matches(locale, others, n=1, cutoff=0.5)
            typo = f" ('{close[0]}' looks like a misspelling of it)" if close else ""
            message = f"{owner} has no '{locale}' label{typo}; add `{locale}: ...` to its label"
            yield _at(document, "MISSING_LABEL", path, message)


CHECKS: tuple[Check, ...] = (
    _check_initial_state,
    _check_final_state,
    _check_activities,
    _check_reachability,
    _check_dead_ends,
    _check_transition_states,
    _check_sources,
    _check_actors,
    _check_final_has_exit,
    _check_duplicate_triggers,
    _check_transition_roles,
    _check_guards,
    _check_actions,
    _check_flows,
    _check_chain_names,
    _check_chain_and_roles,
    _check_derived_roles,
    _check_chain_roles,
    _check_stand_ins,
    _check_quorum,
    _check_unused_chains,
    _check_durations,
    _check_escalation_roles,
    _check_escalation_order,
    _check_labels,
)


def check_structure(spec: DefinitionSpec, document: YamlDocument) -> list[Problem]:
    """The problems of every rule, in the order of the file (problems without a line last)."""
    return _in_file_order(problem for check in CHECKS for problem in check(spec, document))
