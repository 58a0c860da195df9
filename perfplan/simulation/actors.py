"""What the simulated people do on time, read from the definition and the plan, never
from an event's name: each signer signs as soon as their step of a chain waits; the
transition on the shortest way to a final state is fired as soon as its guards let it
(one into a final state not before the first working day after the period, when the
evaluation falls due); milestones are completed on their due day, each goal measured
(at its target) on its deadline, and each progress report and coaching talk the
follow-ups expect is done on the day its reminder comes — all by whoever the definition lets."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.tables import FOLLOWUP
from people import access
from people.roles import Holder
from perfplan.simulation.script import Script
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import TransitionSpec
from views.permitted import Permitted, permitted
from views.record import PlanRecord, plan_record

# The recurring follow-ups (`states.timers`) and the activity each expects on its due day,
# with the `on_time` switch that covers it.
RECURRING = {
    "progress_report_due": ("report_progress", "reports", "progress_report"),
    "coaching_session_due": ("record_coaching", "coaching", "coaching"),
}
SIMULATED = "(simulated)"


@dataclass(frozen=True)
class Planned:
    """A step someone takes on time: the activity, its key, its fields (as a door sends)."""

    actor: str
    activity: str
    key: str | None
    fields: dict[str, Any]
    said: str


def distances(definition: CompiledDefinition) -> dict[str, int]:
    """Each state's number of transitions from a final state (unreachable ones left out)."""
    spec = definition.spec
    finals = [name for name, state in spec.states.items() if state.final]
    found = dict.fromkeys(finals, 0)
    queue = deque(finals)
    while queue:
        state = queue.popleft()
        for transition in spec.transitions:
            for source in transition.source:
                if transition.dest == state and source not in found:
                    found[source] = found[state] + 1
                    queue.append(source)
    return found


@dataclass
class Cast:
    """The simulation's people for one plan, and what each may do now."""

    session: Session
    plan_id: int
    definition: CompiledDefinition
    now: datetime
    record: PlanRecord = field(init=False)
    _may: dict[str, Permitted] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.record = plan_record(self.session, self.plan_id, today=self.now.date())

    def holders(self) -> tuple[Holder, ...]:
        return self.record.people.named

    def may(self, key: str) -> Permitted:
        if key not in self._may:
            viewer = access.load_viewer(self.session, key=key)
            relations = access.relations(self.session, viewer, self.plan_id)
            self._may[key] = permitted(
                self.session,
                viewer=viewer,
                plan=self.record.snapshot,
                definition=self.definition,
                relations=relations,
                now=self.now,
            )
        return self._may[key]

    def first_allowed(self, activity: str, prefer: str | None = None) -> str | None:
        ordered = sorted(self.holders(), key=lambda h: h.role != prefer)
        return next((h.key for h in ordered if activity in self.may(h.key).activities), None)


@dataclass(frozen=True)
class Moment:
    """Where the simulation stands: the day's number, the script, the evaluation day."""

    day: int
    script: Script
    evaluation_day: date
    tried: frozenset[tuple[str, str | None, str]]


def next_on_time(cast: Cast, moment: Moment) -> Planned | None:
    """The next step someone takes on time now, or None when nobody has one."""
    on = moment.script.on_time
    for wanted, decide in (
        ("signatures", _signature),
        ("transitions", _transition),
        ("milestones", _milestone),
        ("measurements", _measurement),
        ("reports", _recurring),
        ("coaching", _recurring),
    ):
        if wanted in on:
            planned = decide(cast, moment, wanted)
            if planned is not None and (planned.actor, planned.key, planned.activity) not in (
                moment.tried
            ):
                return planned
    return None


def _signature(cast: Cast, moment: Moment, _: str) -> Planned | None:
    for holder in cast.holders():
        for step in cast.may(holder.key).sign:
            trigger = step.transition.trigger
            if step.blocked or step.role != holder.role:  # each signs as a part they hold
                continue
            if moment.script.later(moment.day, "sign", trigger, holder.key):
                continue
            said = f"signs '{trigger}' as {holder.role}"
            return Planned(holder.key, "sign", trigger, {"event": trigger}, said)
    return None


def _transition(cast: Cast, moment: Moment, _: str) -> Planned | None:
    far = distances(cast.definition)
    here = far.get(cast.record.plan.state)
    if here is None:
        return None
    for holder in cast.holders():
        for event in cast.may(holder.key).events:
            spec = event.transition
            closer = far.get(spec.dest, here) < here
            early = far.get(spec.dest) == 0 and cast.now.date() < moment.evaluation_day
            if event.blocked or not closer or early:
                continue
            if moment.script.later(moment.day, "fire", spec.trigger):
                continue
            fields = {"inputs": _inputs(spec)}
            return Planned(holder.key, "fire", spec.trigger, fields, spec.trigger)
    return None


def _inputs(spec: TransitionSpec) -> dict[str, str]:
    """What a required input takes: its first choice, or a placeholder text."""
    return {
        name: (field_.choices[0] if field_.choices else SIMULATED)
        for name, field_ in spec.inputs.items()
        if field_.required
    }


def _milestone(cast: Cast, moment: Moment, _: str) -> Planned | None:
    today = cast.now.date()
    for milestone in cast.record.milestones:
        if milestone.status != "pending" or milestone.due > today:
            continue
        script = moment.script
        if script.missed(moment.day, "miss", milestone.key) or script.later(
            moment.day, "complete_milestone", milestone.key
        ):
            continue
        actor = cast.first_allowed("complete_milestone")
        if actor is not None:
            said = f"milestone {milestone.key} done"
            return Planned(actor, "complete_milestone", milestone.key, {}, said)
    return None


def _measurement(cast: Cast, moment: Moment, _: str) -> Planned | None:
    for goal in cast.record.goals:
        if goal.measurements or goal.deadline > cast.now.date():
            continue
        if moment.script.later(moment.day, "measure", goal.key):
            continue
        actor = cast.first_allowed("measure")
        if actor is not None:
            fields = {"goal": goal.key, "value": goal.target, "source": SIMULATED}
            return Planned(
                actor, "measure", goal.key, fields, f"measures {goal.key} = {goal.target:g}"
            )
    return None


def _recurring(cast: Cast, moment: Moment, wanted: str) -> Planned | None:
    today = cast.now.date()
    kinds = [kind for kind, (_, switch, _) in RECURRING.items() if switch == wanted]
    due = cast.session.execute(
        select(FOLLOWUP.c.kind).where(
            FOLLOWUP.c.plan_id == cast.plan_id,
            FOLLOWUP.c.kind.in_(kinds),
            FOLLOWUP.c.level == 0,
            FOLLOWUP.c.due_at >= datetime.combine(today, time(0), tzinfo=UTC),
            FOLLOWUP.c.due_at < datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC),
        )
    ).first()
    if due is None:
        return None
    activity, _, missable = RECURRING[due.kind]
    if _already(cast, activity, today) or moment.script.later(moment.day, activity, None):
        return None
    if moment.script.missed(moment.day, "miss", missable):
        return None
    coach = cast.definition.spec.timers.coaching
    actor = cast.first_allowed(activity, prefer=coach.coach if coach else None)
    if actor is None:
        return None
    fields = {"summary": SIMULATED} if activity == "report_progress" else {"notes": SIMULATED}
    return Planned(actor, activity, None, fields, activity.replace("_", " "))


def _already(cast: Cast, activity: str, today: date) -> bool:
    if activity == "report_progress":
        return any(r.submitted_at.date() == today for r in cast.record.progress_reports)
    return any(c.held_at.date() == today for c in cast.record.coaching_sessions)
