"""The structural rules of a definition: one `_check_*` function per rule between its
parts (known states, roles, guards, reachability, durations, labels, announcements, ...),
each failure with a code, the path, the line and a sentence a person can act on."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence

from states.definitions.announcements import announcement_of, sending_effect
from states.definitions.calendar import calendar_problem
from states.definitions.durations import Duration, DurationTooLong, parse_duration
from states.definitions.schema import (
    LOCALES,
    Announcement,
    Cadence,
    DefinitionSpec,
    Effect,
    Label,
    Timers,
    TransitionSpec,
)
from states.definitions.yamlsource import Path, YamlDocument, in_file_order
from states.engine.registry import (
    ACTIONS,
    ACTIVITIES,
    ANNOUNCEMENTS,
    DERIVED_ROLES,
    ESCALATIONS,
    FLOWS,
    GUARDS,
    STANDING_PREFIX,
    STANDING_ROLES,
)
from states.errors import Problem

# Roles every definition knows without declaring them: flows fire events as "system".
BUILTIN_ROLES = ("system",)

Check = Callable[[DefinitionSpec, YamlDocument], Iterator[Problem]]


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


# --- helpers ------------------------------------------------------------------------------


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
    spec: DefinitionSpec, document: YamlDocument, field: str, registry: Collection[str], code: str
) -> Iterator[Problem]:
    kind = field.rstrip("s")
    for transition, name, path in _transition_names(spec, field):
        if name not in registry:
            message = _unknown(kind, name, sorted(registry), verb="registered")
            yield document.problem(code, path, f"transition '{transition.trigger}': {message}")


def _unknown_roles(
    document: YamlDocument,
    named: Iterable[tuple[str, Path, str]],
    known: Sequence[str],
    code: str = "UNKNOWN_ROLE",
) -> Iterator[Problem]:
    """A problem for every role in `named` (role, path, whose it is) that is not `known`."""
    for role, path, whose in named:
        if role not in known:
            yield document.problem(code, path, f"{whose}{_unknown('role', role, known)}")


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
        yield document.problem("NO_INITIAL_STATE", ("states",), message)
    for name in initial[1:]:
        message = (
            f"only one state may be initial, yet these say `initial: true`: {', '.join(initial)}; "
            f"remove it from '{name}' unless plans start there"
        )
        yield document.problem("MANY_INITIAL_STATES", ("states", name, "initial"), message)


def _check_final_state(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    if spec.states and not any(state.final for state in spec.states.values()):
        left = _states_left(spec)
        ends = [name for name in spec.states if name not in left] or [*spec.states][-1:]
        message = (
            "no state has `final: true`, so no plan can ever end; mark the state(s) where "
            f"a plan ends, e.g. '{ends[0]}'"
        )
        yield document.problem("NO_FINAL_STATE", ("states",), message)


def _check_activities(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for name, state in spec.states.items():
        for position, activity in enumerate(state.allows):
            if activity not in ACTIVITIES:
                message = _unknown("activity", activity, sorted(ACTIVITIES), plural="activities")
                path = ("states", name, "allows", position)
                yield document.problem("UNKNOWN_ACTIVITY", path, message)


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
            yield document.problem("UNREACHABLE_STATE", ("states", name), message)


def _check_dead_ends(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    left = _states_left(spec)
    for name, state in spec.states.items():
        if not state.final and name not in left:
            message = (
                f"no transition leaves state '{name}', so a plan there would be stuck; add a "
                f"transition with `source: {name}`, or mark it `final: true`"
            )
            yield document.problem("DEAD_END", ("states", name), message)


# --- transitions ----------------------------------------------------------------------------


def _check_transition_states(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        named = [*_source_paths(document, index, transition)]
        named.append((transition.dest, ("transitions", index, "dest")))
        for state, path in named:
            if state not in spec.states:
                message = _unknown("state", state, spec.states)
                yield document.problem("UNKNOWN_STATE", path, message)


def _check_sources(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if not transition.source:
            message = (
                f"'{transition.trigger}' has an empty `source`, so it can never happen; "
                "name the state(s) it leaves"
            )
            yield document.problem("NO_SOURCE", ("transitions", index, "source"), message)


def _check_actors(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if transition.approval is None and not transition.roles:
            message = (
                f"no one may fire '{transition.trigger}': it names neither `roles` nor an "
                "`approval` chain; add `roles: [...]` (`system` for flows) or `approval: ...`"
            )
            yield document.problem("NO_ACTOR", ("transitions", index), message)


def _check_final_has_exit(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        for state, path in _source_paths(document, index, transition):
            if state in spec.states and spec.states[state].final:
                message = (
                    f"'{state}' is a final state, so '{transition.trigger}' cannot leave it; "
                    f"remove `final: true` from '{state}' or start '{transition.trigger}' elsewhere"
                )
                yield document.problem("FINAL_HAS_EXIT", path, message)


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
                yield document.problem(
                    "DUPLICATE_TRIGGER", ("transitions", index, "trigger"), message
                )


def _check_transition_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    named = (
        (role, path, f"transition '{transition.trigger}': ")
        for transition, role, path in _transition_names(spec, "roles")
    )
    yield from _unknown_roles(document, named, [*spec.roles, *BUILTIN_ROLES])


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
            yield document.problem("UNKNOWN_CHAIN", ("transitions", index, "approval"), message)


def _check_chain_and_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if transition.approval is not None and transition.roles:
            message = (
                f"'{transition.trigger}' names both an approval chain ('{transition.approval}') "
                "and roles, but the chain's last signer fires it: remove `roles`, or remove "
                "`approval` to let those roles fire it directly"
            )
            yield document.problem("CHAIN_AND_ROLES", ("transitions", index, "roles"), message)


# --- roles and approval chains --------------------------------------------------------------


def _check_derived_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for name, role in spec.roles.items():
        if role.derived is not None and role.derived not in DERIVED_ROLES:
            message = _unknown("derived role", role.derived, sorted(DERIVED_ROLES), verb="known")
            path = ("roles", name, "derived")
            yield document.problem("UNKNOWN_DERIVED_ROLE", path, f"role '{name}': {message}")


def _check_chain_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    named = (
        (role, ("approval_chains", chain_name, "steps", index, "roles", position), "")
        for chain_name, chain in spec.approval_chains.items()
        for index, step in enumerate(chain.steps)
        for position, role in enumerate(step.roles)
    )
    yield from _unknown_roles(document, named, list(spec.roles), "CHAIN_UNKNOWN_ROLE")


def _stand_ins(spec: DefinitionSpec) -> Iterator[tuple[str, Path, str]]:
    """Every role named in a chain's `may_sign_for`, the role signed for and its deputies."""
    for chain_name, chain in spec.approval_chains.items():
        base: Path = ("approval_chains", chain_name, "may_sign_for")
        whose = f"may_sign_for of '{chain_name}': "
        for role, deputies in chain.may_sign_for.items():
            yield role, (*base, role), whose
            yield from ((deputy, (*base, role, i), whose) for i, deputy in enumerate(deputies))


def _check_stand_ins(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    yield from _unknown_roles(document, _stand_ins(spec), list(spec.roles))


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
            yield document.problem("BAD_QUORUM", path, message)


def _check_unused_chains(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    used = {transition.approval for transition in spec.transitions}
    for name in spec.approval_chains:
        if name not in used:
            message = (
                f"approval chain '{name}' is not used by any transition; name it in a "
                f"transition's `approval: {name}`, or remove it"
            )
            yield document.problem("UNUSED_CHAIN", ("approval_chains", name), message)


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
        except DurationTooLong as exc:
            yield document.problem("DURATION_TOO_LONG", path, str(exc))
        except ValueError as exc:
            yield document.problem("BAD_DURATION", path, str(exc))


def _check_calendar(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    problem = calendar_problem(spec.timers.calendar)
    if problem is not None:
        yield document.problem("UNKNOWN_CALENDAR", ("timers", "calendar"), problem)


def _check_escalation_kinds(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for kind in spec.timers.escalation:
        if kind not in ESCALATIONS:
            message = _unknown(
                "escalation kind", kind, ESCALATIONS, plural="kinds", verb="registered"
            )
            yield document.problem(
                "UNKNOWN_ESCALATION_KIND", ("timers", "escalation", kind), message
            )


def _without_timer(spec: DefinitionSpec, kind: str) -> str | None:
    """Why an escalation of `kind` could never start, or None when it can."""
    states = spec.states.values()
    if kind == "progress_report_missed" and spec.timers.progress_report is None:
        return (
            "no `timers.progress_report` sets when reports are due; add "
            "`progress_report: {every: P1W}`"
        )
    if kind == "coaching_missed" and spec.timers.coaching is None:
        return "no `timers.coaching` sets when talks are due; add `coaching: {every: P1W}`"
    if kind == "signature_waiting" and not any(t.approval for t in spec.transitions):
        return "no transition has an `approval` chain to wait for"
    activity = {"milestone_overdue": "complete_milestone", "evaluation_overdue": "measure"}
    if kind in activity and not any(activity[kind] in state.allows for state in states):
        return f"no state allows `{activity[kind]}`, so none runs this timer"
    return None


def _check_escalation_timers(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for kind in spec.timers.escalation:
        why = _without_timer(spec, kind) if kind in ESCALATIONS else None
        if why is not None:
            message = f"the '{kind}' ladder can never start: {why}, or remove the ladder"
            path = ("timers", "escalation", kind)
            yield document.problem("ESCALATION_WITHOUT_TIMER", path, message)


def _rung_names(spec: DefinitionSpec) -> Iterator[tuple[str, Path]]:
    for kind, rungs in spec.timers.escalation.items():
        for index, rung in enumerate(rungs):
            for position, role in enumerate(rung.notify):
                yield role, ("timers", "escalation", kind, index, "notify", position)


def _check_escalation_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    named = (
        (role, path, "") for role, path in _rung_names(spec) if not role.startswith(STANDING_PREFIX)
    )
    yield from _unknown_roles(document, named, list(spec.roles))


def _check_standing_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for name, path in _rung_names(spec):
        role = name.removeprefix(STANDING_PREFIX)
        if name.startswith(STANDING_PREFIX) and role not in STANDING_ROLES:
            message = _unknown("standing role", role, STANDING_ROLES, verb="known")
            yield document.problem("UNKNOWN_STANDING_ROLE", path, f"'{name}': {message}")


def _check_activity_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for activity, roles in spec.activities.items():
        if activity not in ACTIVITIES:
            message = _unknown("activity", activity, sorted(ACTIVITIES), plural="activities")
            yield document.problem("UNKNOWN_ACTIVITY", ("activities", activity), message)
            continue
        named = [
            (role, ("activities", activity, i), f"activity '{activity}': ")
            for i, role in enumerate(roles)
        ]
        yield from _unknown_roles(document, named, [*spec.roles, *BUILTIN_ROLES])


def _check_coach(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    coaching = spec.timers.coaching
    if coaching is None or coaching.coach is None:
        return
    named = [(coaching.coach, ("timers", "coaching", "coach"), "")]
    yield from _unknown_roles(document, named, list(spec.roles))


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
                yield document.problem("ESCALATION_ORDER", path, message)
            seen.append((index, after))


# --- announcements --------------------------------------------------------------------------


def _announcing(spec: DefinitionSpec) -> Iterator[tuple[int, TransitionSpec, Announcement]]:
    """Every transition that says what it announces, with its index and its announcement."""
    for index, transition in enumerate(spec.transitions):
        if transition.announce is not None:
            yield index, transition, transition.announce


def _check_announcement_messages(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition, announced in _announcing(spec):
        if announced.message not in ANNOUNCEMENTS:
            message = _unknown(
                "announcement", announced.message, sorted(ANNOUNCEMENTS), verb="registered"
            )
            path = ("transitions", index, "announce", "message")
            yield document.problem(
                "UNKNOWN_ANNOUNCEMENT", path, f"transition '{transition.trigger}': {message}"
            )


def _check_announcement_roles(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    named = (
        (
            role,
            ("transitions", index, "announce", "to", position),
            f"transition '{transition.trigger}' announces to: ",
        )
        for index, transition, announced in _announcing(spec)
        for position, role in enumerate(announced.to)
    )
    yield from _unknown_roles(document, named, list(spec.roles))


def _check_announce_effect(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition, announced in _announcing(spec):
        if announced.message not in ANNOUNCEMENTS:
            continue  # UNKNOWN_ANNOUNCEMENT says it
        effect = sending_effect(announced.message)
        if effect not in transition.flows:
            message = (
                f"'{transition.trigger}' announces {announced.message}, which the {effect} "
                f"effect sends, but its `flows` do not list {effect}; add {effect} to its "
                "`flows`, or remove `announce`"
            )
            path = ("transitions", index, "announce")
            yield document.problem("ANNOUNCE_WITHOUT_EFFECT", path, message)


def _check_nothing_to_announce(spec: DefinitionSpec, document: YamlDocument) -> Iterator[Problem]:
    for index, transition in enumerate(spec.transitions):
        if Effect.ANNOUNCE not in transition.flows or "announce" in transition.model_fields_set:
            continue  # an `announce` written out, even `null`, says what it means
        if announcement_of(spec, transition) is not None:
            continue
        message = (
            f"'{transition.trigger}' lists the announce effect but announces nothing; add "
            "`announce: {message: ..., to: [...]}` (messages: "
            f"{', '.join(sorted(ANNOUNCEMENTS))}), or remove announce from its `flows`"
        )
        path = ("transitions", index, "flows", transition.flows.index(Effect.ANNOUNCE))
        yield document.problem("NOTHING_TO_ANNOUNCE", path, message)


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
            yield document.problem("MISSING_LABEL", path, message)


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
    _check_calendar,
    _check_escalation_kinds,
    _check_escalation_timers,
    _check_escalation_roles,
    _check_standing_roles,
    _check_activity_roles,
    _check_coach,
    _check_escalation_order,
    _check_labels,
    _check_announcement_messages,
    _check_announcement_roles,
    _check_announce_effect,
    _check_nothing_to_announce,
)
# Rules that came after definitions were installed in databases: an installed version was
# valid when it was installed, and plans run on it, so it is not held to them.
LATER_RULES: tuple[Check, ...] = (
    _check_nothing_to_announce,
    _check_calendar,
    _check_escalation_kinds,
    _check_escalation_timers,
)


def check_structure(
    spec: DefinitionSpec, document: YamlDocument, *, installed: bool = False
) -> list[Problem]:
    """The problems of every rule, in the order of the file (problems without a line last);
    an `installed` version (read back from the database) is not held to LATER_RULES."""
    checks = [c for c in CHECKS if not (installed and c in LATER_RULES)]
    return in_file_order(problem for check in checks for problem in check(spec, document))
