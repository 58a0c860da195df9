"""What one person may do on a plan right now: the events they may fire, the approval
step they may sign, and the activities they may record — decided by the same
`authorise` the engine uses, so a button is shown exactly when the action would pass
the role check. Guards are run too, so a blocked event can say why before it is tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from people import access
from people.access import Viewer
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import TransitionSpec
from states.engine.authority import authorise, signing_role
from states.engine.chains import chain_status
from states.engine.context import Actor, Context, PlanSnapshot
from states.engine.firing import failing_guard
from states.errors import Forbidden, NotAllowedNow


@dataclass(frozen=True)
class PermittedEvent:
    """An event the viewer's role allows now; `blocked` is a failing guard's sentence."""

    transition: TransitionSpec
    role: str
    blocked: str | None = None


@dataclass(frozen=True)
class SignableStep:
    """The step of an approval chain that waits for this viewer's signature."""

    transition: TransitionSpec
    step: int
    steps: int
    role: str
    blocked: str | None = None


@dataclass(frozen=True)
class Permitted:
    events: list[PermittedEvent] = field(default_factory=list)
    sign: list[SignableStep] = field(default_factory=list)
    activities: dict[str, str] = field(default_factory=dict)  # activity -> acting role

    @property
    def anything(self) -> bool:
        return bool(self.events or self.sign or self.activities)


def _role_for(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    actor: Actor,
    roles: list[str],
    what: str,
) -> str | None:
    try:
        return authorise(session, plan, definition, actor, roles, what)
    except Forbidden:
        return None


@dataclass(frozen=True)
class _Asking:
    actor: Actor
    now: datetime


def _blocked(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    asking: _Asking,
    spec: TransitionSpec,
    role: str,
) -> str | None:
    """The first failing guard's sentence, or None."""
    ctx = Context(
        session=session,
        plan=plan,
        definition=definition,
        event=spec.trigger,
        actor=asking.actor,
        role=role,
        now=asking.now,
    )
    failed = failing_guard(ctx, spec)
    return failed[1] if failed else None


def _signable(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    asking: _Asking,
    spec: TransitionSpec,
) -> SignableStep | None:
    assert spec.approval is not None
    chain = definition.spec.approval_chains[spec.approval]
    status = chain_status(session, plan, definition, spec)
    if status.step is None or any(s.person_id == asking.actor.id for s in status.signed):
        return None
    try:
        role = signing_role(session, plan, definition, chain, status, asking.actor)
    except (Forbidden, NotAllowedNow):  # not theirs to sign, or not yet
        return None
    blocked = _blocked(session, plan, definition, asking, spec, role)
    return SignableStep(spec, status.step, len(chain.steps), role, blocked)


def permitted(
    session: Session,
    *,
    viewer: Viewer,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    relations: set[str],
    now: datetime,
) -> Permitted:
    """Everything `viewer` may do on `plan` now; nothing for a read-only relation."""
    if not relations & access.PLAN_POLICY["act"]:
        return Permitted()
    asking = _Asking(Actor(id=viewer.id, key=viewer.key, name=viewer.name), now)
    result = Permitted()
    for spec in definition.transitions_from(plan.state):
        if spec.approval:
            step = _signable(session, plan, definition, asking, spec)
            if step is not None:
                result.sign.append(step)
            continue
        role = _role_for(session, plan, definition, asking.actor, list(spec.roles), spec.trigger)
        if role is not None:
            blocked = _blocked(session, plan, definition, asking, spec, role)
            result.events.append(PermittedEvent(spec, role, blocked))
    for activity in definition.state(plan.state).allows:
        roles = list(definition.spec.activity_roles(activity))
        role = _role_for(session, plan, definition, asking.actor, roles, activity)
        if role is not None:
            result.activities[activity] = role
    return result
