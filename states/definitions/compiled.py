"""A checked definition compiled once into a shared `transitions` machine.

One machine per definition version serves every plan: a plan is bound to it
for one event (a throw-away token carries the state) and released, so memory
does not grow with the number of plans.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from transitions import Machine, MachineError

from states.definitions.announcements import announcement_of, compatible_announcement
from states.definitions.schema import (
    COACHING_COACH,
    COACHING_MINUTES,
    DEFAULT_ACTIVITY_ROLES,
    Announcement,
    DefinitionSpec,
    StateSpec,
    TransitionSpec,
)


class _Token:
    """The model bound to the shared machine for one event."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def content_hash(spec: DefinitionSpec) -> str:
    """Hash of the definition's meaning: comments and layout of the file do not count, nor
    an `announce` that says what the transition would announce anyway (none, or the
    compatible one), nor a coaching talk's minutes and coach where they are the default
    (15, the manager): written out or not, it is the same version."""
    meaning = spec.model_dump(mode="json")
    for transition, dumped in zip(spec.transitions, meaning["transitions"], strict=True):
        if transition.announce in (None, compatible_announcement(spec, transition)):
            del dumped["announce"]
    coaching = meaning["timers"]["coaching"]
    if coaching is not None:  # a talk's length and coach, left out where they are the default
        if coaching["minutes"] in (None, COACHING_MINUTES):
            del coaching["minutes"]
        if coaching["coach"] in (None, COACHING_COACH):
            del coaching["coach"]
    # Activity roles written out as they are by default mean the same version.
    activities = meaning.pop("activities")
    said = {a: r for a, r in activities.items() if tuple(r) != DEFAULT_ACTIVITY_ROLES.get(a)}
    if said:
        meaning["activities"] = said
    canonical = json.dumps(meaning, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CompiledDefinition:
    spec: DefinitionSpec
    hash: str
    source: str
    machine: Machine = field(repr=False)
    by_state: dict[str, dict[str, TransitionSpec]] = field(repr=False)
    announcements: dict[str, Announcement] = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> int:
        return self.spec.version

    @property
    def initial(self) -> str:
        return next(name for name, state in self.spec.states.items() if state.initial)

    @property
    def final_states(self) -> list[str]:
        return [name for name, state in self.spec.states.items() if state.final]

    def state(self, name: str) -> StateSpec:
        return self.spec.states[name]

    def transition(self, state: str, trigger: str) -> TransitionSpec | None:
        return self.by_state.get(state, {}).get(trigger)

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        return list(self.by_state.get(state, {}).values())

    def has_trigger(self, trigger: str) -> bool:
        return trigger in self.machine.events

    def announcement(self, trigger: str) -> Announcement | None:
        """What `trigger`'s transition announces: its own announcement, else the compatible
        one, else None."""
        return self.announcements.get(trigger)

    def allows(self, state: str, activity: str) -> bool:
        return activity in self.spec.states[state].allows

    def move(self, state: str, trigger: str) -> str:
        """The state after `trigger` fires from `state`, as the shared machine computes it."""
        token = _Token(state)
        try:
            self.machine.events[trigger].trigger(token)
        except (MachineError, KeyError) as exc:
            raise ValueError(f"'{trigger}' cannot fire from '{state}'") from exc
        return token.state

    def label(self, state: str, locale: str = "en") -> str:
        labels = self.spec.states[state].label
        return labels.get(locale) or labels.get("en") or state


def _announcements(spec: DefinitionSpec) -> dict[str, Announcement]:
    """What each trigger announces (a trigger's first transition that announces anything)."""
    found: dict[str, Announcement] = {}
    for transition in spec.transitions:
        announced = announcement_of(spec, transition)
        if announced is not None:
            found.setdefault(transition.trigger, announced)
    return found


def compile_definition(spec: DefinitionSpec, source: str) -> CompiledDefinition:
    machine = Machine(
        model=None,
        states=list(spec.states),
        transitions=[
            {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
            for t in spec.transitions
        ],
        initial=next(name for name, state in spec.states.items() if state.initial),
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    by_state: dict[str, dict[str, TransitionSpec]] = {}
    for transition in spec.transitions:
        for source_state in transition.source:
            by_state.setdefault(source_state, {})[transition.trigger] = transition
    return CompiledDefinition(
        spec=spec,
        hash=content_hash(spec),
        source=source,
        machine=machine,
        by_state=by_state,
        announcements=_announcements(spec),
    )
