"""Firing an event, in the caller's one transaction: the plan read once, the event's
transition, its inputs and guards checked, the shared machine's move written with a
version check and its audit record, then the transition's actions and effects.

`fire` never commits: the caller's session scope does, so the state change, the audit
record and the outbox rows land together or not at all. A concurrent change of the
same plan is a Conflict instead of a lost update. What `fire` and `sign` share is here:
reading the plan with who acts on it in one statement (`load_plan_and_actor`; apart:
`load_plan_and_definition`, `load_actor`), finding the
transition (`transition_of`, refusing what the plan's state does not allow with
`not_possible_there`), checking inputs and guards (`checked_context`) and the
move itself (`apply_transition`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlmodel import Session

from models.tables import PERSON, PLAN, PLAN_ROLE
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import Effect, TransitionSpec
from states.engine.authority import authorise
from states.engine.chains import chain_status
from states.engine.context import SYSTEM, Actor, Context, PlanSnapshot
from states.engine.effects import implied_flows, write_outbox
from states.engine.registry import ACTIONS, GUARDS
from states.errors import (
    Conflict,
    GuardFailed,
    InvalidInput,
    NotAllowedNow,
    PersonNotFound,
    PlanNotFound,
)

PLAN_COLUMNS = [PLAN.c[name] for name in PlanSnapshot.__dataclass_fields__]
# Built once: these run on every change, and building a statement costs more
# than running it on SQLite.
_LOAD_PLAN = select(*PLAN_COLUMNS).where(PLAN.c.id == bindparam("plan_id"))
_LOAD_ACTOR = select(PERSON.c.id, PERSON.c.name).where(PERSON.c.key == bindparam("key"))
# The plan, the acting person and the roles the plan names them in, in one statement
# (a row per role; one row with no person or no role when there is none): a change
# reads what it needs in one round trip instead of three.
_LOAD_PLAN_AND_ACTOR = (
    select(
        *PLAN_COLUMNS,
        PERSON.c.id.label("actor_id"),
        PERSON.c.name.label("actor_name"),
        PLAN_ROLE.c.role.label("actor_role"),
    )
    .select_from(PLAN)
    .outerjoin(PERSON, PERSON.c.key == bindparam("key"))
    .outerjoin(
        PLAN_ROLE, and_(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.person_id == PERSON.c.id)
    )
    .where(PLAN.c.id == bindparam("plan_id"))
)


@dataclass(frozen=True)
class Fired:
    """A transition that happened: from where to where, at which version and audit sequence."""

    plan_id: int
    event: str
    from_state: str
    to_state: str
    version: int
    seq: int
    flows: tuple[Effect, ...]


@dataclass(frozen=True)
class Acting:
    """Who acts on a plan, as read with it: the person (None when no one has the key)
    and the roles the plan names them in."""

    key: str
    person: Actor | None
    named_roles: frozenset[str]

    def actor(self) -> Actor:
        """The person acting, or PersonNotFound."""
        if self.person is None:
            raise PersonNotFound(self.key)
        return self.person


def _snapshot(row: Any, plan_id: int, expected_version: int | None) -> PlanSnapshot:
    if row is None:
        raise PlanNotFound(plan_id)
    plan = PlanSnapshot(*row[: len(PLAN_COLUMNS)])  # the columns come first, in its order
    if expected_version is not None and plan.version != expected_version:
        raise Conflict(plan_id, expected_version, plan.version)
    return plan


def load_plan(session: Session, plan_id: int, expected_version: int | None = None) -> PlanSnapshot:
    """The plan as it is now; Conflict when it is no longer at `expected_version`."""
    row = session.connection().execute(_LOAD_PLAN, {"plan_id": plan_id}).first()
    return _snapshot(row, plan_id, expected_version)


def load_plan_and_actor(
    session: Session, plan_id: int, actor: str, expected_version: int | None = None
) -> tuple[PlanSnapshot, CompiledDefinition, Acting]:
    """The plan, its definition, and who acts on it (`load_plan_and_definition`,
    `load_actor` and the roles they hold, read in one statement)."""
    params = {"plan_id": plan_id, "key": actor}
    rows = session.connection().execute(_LOAD_PLAN_AND_ACTOR, params).all()
    plan = _snapshot(rows[0] if rows else None, plan_id, expected_version)
    if actor == SYSTEM.key:
        acting = Acting(actor, SYSTEM, frozenset())
    else:
        first = rows[0]
        person = None if first.actor_id is None else Actor(first.actor_id, actor, first.actor_name)
        acting = Acting(actor, person, frozenset(r.actor_role for r in rows if r.actor_role))
    return plan, catalog.by_hash(session, plan.definition_hash), acting


def load_plan_and_definition(
    session: Session, plan_id: int, expected_version: int | None = None
) -> tuple[PlanSnapshot, CompiledDefinition]:
    """The plan, and the exact definition version it is bound to."""
    plan = load_plan(session, plan_id, expected_version)
    return plan, catalog.by_hash(session, plan.definition_hash)


def load_actor(session: Session, key: str) -> Actor:
    """The person with this key, or the system itself."""
    if key == SYSTEM.key:
        return SYSTEM
    row = session.execute(_LOAD_ACTOR, {"key": key}).first()
    if row is None:
        raise PersonNotFound(key)
    return Actor(id=row.id, key=key, name=row.name)


def not_possible_there(plan: PlanSnapshot, event: str, why: str) -> NotAllowedNow:
    """The refusal of `event` by the state the plan is in: `plan 1 is 'drafted': <why>`."""
    return NotAllowedNow(
        f"plan {plan.id} is '{plan.state}': {why}", plan_id=plan.id, event=event, state=plan.state
    )


def transition_of(definition: CompiledDefinition, plan: PlanSnapshot, event: str) -> TransitionSpec:
    """The transition `event` makes from the plan's state: InvalidInput when the
    definition has no such event, NotAllowedNow when it cannot happen from there."""
    spec = definition.transition(plan.state, event)
    if spec is not None:
        return spec
    possible = ", ".join(t.trigger for t in definition.transitions_from(plan.state)) or "none"
    if not definition.has_trigger(event):
        raise InvalidInput(
            f"'{definition.name}' has no event '{event}'; events possible now: {possible}",
            field="event",
        )
    raise not_possible_there(
        plan, event, f"'{event}' is not possible from there (possible now: {possible})"
    )


def _checked_inputs(spec: TransitionSpec, inputs: Mapping[str, str] | None) -> dict[str, str]:
    given = dict(inputs or {})
    unknown = sorted(set(given) - set(spec.inputs))
    if unknown:
        raise InvalidInput(
            f"'{spec.trigger}' takes no input {', '.join(unknown)}; "
            f"it takes: {', '.join(spec.inputs) or 'none'}",
            field="inputs",
        )
    for name, wanted in spec.inputs.items():
        if wanted.required and not given.get(name):
            raise InvalidInput(f"'{spec.trigger}' needs the input '{name}'", field=name)
        if name in given and wanted.choices and given[name] not in wanted.choices:
            raise InvalidInput(
                f"'{given[name]}' is not one of {', '.join(wanted.choices)}", field=name
            )
    return given


def failing_guard(ctx: Context, spec: TransitionSpec) -> tuple[str, str] | None:
    """The first guard of `spec` that refuses now, and its sentence (guards only read)."""
    for name in spec.guards:
        reason = GUARDS[name](ctx)
        if reason is not None:
            return name, reason
    return None


def checked_context(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    spec: TransitionSpec,
    *,
    actor: Actor,
    role: str,
    now: datetime,
    inputs: Mapping[str, str] | None,
) -> Context:
    """What the transition's guards and actions see, once its inputs are checked
    (InvalidInput) and every guard lets it happen now (GuardFailed)."""
    checked = _checked_inputs(spec, inputs)
    ctx = Context(session, plan, definition, spec.trigger, actor, role, now, checked)
    failed = failing_guard(ctx, spec)
    if failed is not None:
        raise GuardFailed(*failed, plan_id=plan.id, event=spec.trigger, state=plan.state)
    return ctx


def _with_inputs(comment: str | None, inputs: Mapping[str, str]) -> str:
    """The comment, followed by the event's inputs (an evaluation's outcome, feedback and
    lessons), so that the hash chain covers them too."""
    if not inputs:
        return comment or ""
    given = json.dumps(dict(sorted(inputs.items())), ensure_ascii=False, separators=(",", ":"))
    return f"{comment}\ninputs: {given}" if comment else f"inputs: {given}"


def apply_transition(ctx: Context, spec: TransitionSpec, comment: str | None) -> Fired:
    """Move the plan, append its audit record, run the transition's actions and write
    the outbox rows of the effects it starts."""
    plan, from_state = ctx.plan, ctx.plan.state
    to_state = ctx.definition.move(from_state, spec.trigger)
    entry = audit.entry(
        ctx, "transition", moves=(from_state, to_state), comment=_with_inputs(comment, ctx.inputs)
    )
    seq = audit.advance(ctx.session, plan, entry, new_state=to_state)
    for name in spec.actions:
        ACTIONS[name](ctx)
    flows = implied_flows(ctx.definition, to_state, spec.flows)
    payload: dict[str, Any] = {
        "event": spec.trigger,
        "from": from_state,
        "to": to_state,
        "actor": ctx.actor.key,
    }
    write_outbox(ctx.session, plan.id, seq, flows, payload, ctx.now)
    return Fired(plan.id, spec.trigger, from_state, to_state, plan.version, seq, flows)


def _refuse_unsigned(
    session: Session, plan: PlanSnapshot, definition: CompiledDefinition, spec: TransitionSpec
) -> None:
    """A transition with an approval chain happens through signatures, never fired."""
    if spec.approval is None:
        return
    status = chain_status(session, plan, definition, spec)
    raise NotAllowedNow(
        f"'{spec.trigger}' happens when its approval chain '{spec.approval}' is signed: "
        f"use `plan sign`; waiting for {', '.join(status.waiting_for)}",
        plan_id=plan.id,
        event=spec.trigger,
        state=plan.state,
    )


def fire(
    *,
    session: Session,
    plan_id: int,
    event: str,
    actor: str,
    now: datetime,
    comment: str | None = None,
    inputs: Mapping[str, str] | None = None,
    expected_version: int | None = None,
) -> Fired:
    """Fire `event` on the plan as `actor` (a person's key). Does not commit."""
    plan, definition, acting = load_plan_and_actor(session, plan_id, actor, expected_version)
    spec = transition_of(definition, plan, event)
    _refuse_unsigned(session, plan, definition, spec)
    person = acting.actor()
    role = authorise(
        session, plan, definition, person, list(spec.roles), event, named=acting.named_roles
    )
    ctx = checked_context(
        session, plan, definition, spec, actor=person, role=role, now=now, inputs=inputs
    )
    return apply_transition(ctx, spec, comment)
