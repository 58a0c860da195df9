"""The engine: fire an event or sign an approval chain, in the caller's one transaction.

`fire` and `sign` never commit: the caller's session scope does, so the state
change, the audit record and the outbox rows land together or not at all.
A plan is read once, checked (who: Forbidden; whether now: NotAllowedNow),
moved by its definition's shared machine, and written with a version check
that turns a concurrent change into a Conflict instead of a lost update.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlmodel import Session

from models.tables import OUTBOX, PERSON, PLAN, PLAN_ROLE, SIGNATURE
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import ApprovalChain, ChainStep, TransitionSpec
from states.engine.context import SYSTEM, Actor, Context, PlanSnapshot
from states.engine.registry import ACTIONS, DERIVED_ROLES, GUARDS
from states.errors import (
    Conflict,
    Forbidden,
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
_ROLES_OF = select(PLAN_ROLE.c.role).where(
    PLAN_ROLE.c.plan_id == bindparam("plan_id"), PLAN_ROLE.c.person_id == bindparam("person_id")
)
_WRITE_OUTBOX = insert(OUTBOX)


@dataclass(frozen=True)
class Fired:
    """A transition that happened: from where to where, at which version and audit sequence."""

    plan_id: int
    event: str
    from_state: str
    to_state: str
    version: int
    seq: int
    flows: tuple[str, ...]


@dataclass(frozen=True)
class Signed:
    """A signature recorded; `fired` is set when it was the last one the chain needed."""

    plan_id: int
    event: str
    role: str
    step: int
    waiting_for: tuple[str, ...]
    fired: Fired | None = None


@dataclass(frozen=True)
class _Sig:
    person_id: int
    role: str
    step: int


@dataclass
class ChainStatus:
    """Where an approval chain stands in the current round."""

    chain: str
    step: int | None  # None: complete
    waiting_for: tuple[str, ...]
    signed: list[_Sig] = field(default_factory=list)


def load_plan(session: Session, plan_id: int, expected_version: int | None = None) -> PlanSnapshot:
    row = session.execute(_LOAD_PLAN, {"plan_id": plan_id}).first()
    if row is None:
        raise PlanNotFound(plan_id)
    plan = PlanSnapshot.from_row(row)
    if expected_version is not None and plan.version != expected_version:
        raise Conflict(plan_id, expected_version, plan.version)
    return plan


def load_actor(session: Session, key: str) -> Actor:
    if key == SYSTEM.key:
        return SYSTEM
    row = session.execute(_LOAD_ACTOR, {"key": key}).first()
    if row is None:
        raise PersonNotFound(key)
    return Actor(id=row.id, key=key, name=row.name)


def roles_of(session: Session, plan_id: int, actor: Actor) -> set[str]:
    """The actor's roles on the plan; the plan's own employee acts only as employee."""
    if actor.id is None:
        return {"system"}
    held = set(session.execute(_ROLES_OF, {"plan_id": plan_id, "person_id": actor.id}).scalars())
    return {"employee"} if "employee" in held else held


def _holds(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    actor: Actor,
    held: set[str],
    role: str,
) -> bool:
    if role in held:
        return True
    spec = definition.spec.roles.get(role)
    if spec is None or spec.derived is None or actor.id is None or "employee" in held:
        return False
    return DERIVED_ROLES[spec.derived](session, plan.id, actor.id)


def authorise(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    actor: Actor,
    allowed: list[str],
    event: str,
) -> str:
    held = roles_of(session, plan.id, actor)
    for role in allowed:
        if _holds(session, plan, definition, actor, held, role):
            return role
    if held == {"employee"} and "employee" not in allowed:
        why = "it is their own plan, and no one approves their own plan"
    else:
        why = f"their role{'s' if len(held) != 1 else ''}: {', '.join(sorted(held)) or 'none'}"
    raise Forbidden(
        f"{actor.key} may not '{event}' plan {plan.id}: it needs "
        f"{' or '.join(allowed) or 'an approval chain'}; {why}",
        plan_id=plan.id,
        event=event,
        actor=actor.key,
    )


def _transition(definition: CompiledDefinition, plan: PlanSnapshot, event: str) -> TransitionSpec:
    spec = definition.transition(plan.state, event)
    if spec is not None:
        return spec
    possible = ", ".join(t.trigger for t in definition.transitions_from(plan.state)) or "none"
    if not definition.has_trigger(event):
        raise InvalidInput(
            f"'{definition.name}' has no event '{event}'; events possible now: {possible}",
            field="event",
        )
    raise NotAllowedNow(
        f"plan {plan.id} is '{plan.state}': '{event}' is not possible from there "
        f"(possible now: {possible})",
        plan_id=plan.id,
        event=event,
        state=plan.state,
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


def _check_guards(ctx: Context, spec: TransitionSpec) -> None:
    failed = failing_guard(ctx, spec)
    if failed is not None:
        raise GuardFailed(*failed, plan_id=ctx.plan.id, event=spec.trigger, state=ctx.plan.state)


def _with_inputs(comment: str | None, inputs: Mapping[str, str]) -> str:
    """The comment, followed by the event's inputs (an evaluation's outcome, feedback and
    lessons), so that the hash chain covers them too."""
    if not inputs:
        return comment or ""
    given = json.dumps(dict(sorted(inputs.items())), ensure_ascii=False, separators=(",", ":"))
    return f"{comment}\ninputs: {given}" if comment else f"inputs: {given}"


def _apply(ctx: Context, spec: TransitionSpec, comment: str | None) -> Fired:
    plan, from_state = ctx.plan, ctx.plan.state
    to_state = ctx.definition.move(from_state, spec.trigger)
    entry = audit.Entry(
        kind="transition",
        event=spec.trigger,
        from_state=from_state,
        to_state=to_state,
        actor=ctx.actor.key,
        role=ctx.role,
        at=ctx.now,
        comment=_with_inputs(comment, ctx.inputs),
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


def implied_flows(
    definition: CompiledDefinition, state: str, named: list[str] | tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The flows a plan entering `state` starts: those the definition names, then
    the engine's own: timers are rescheduled after every change of state, and
    the signers of a chain that now waits are asked to sign."""
    flows = list(dict.fromkeys(named))
    if any(t.approval for t in definition.transitions_from(state)):
        flows.append("request_signatures")
    flows.append("schedule_followups")
    return tuple(dict.fromkeys(flows))


def write_outbox(
    session: Session,
    plan_id: int,
    seq: int,
    flows: tuple[str, ...],
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """One row per flow, keyed by plan, audit sequence and flow: unique per effect."""
    if not flows:
        return
    session.execute(
        _WRITE_OUTBOX,
        [
            {
                "key": f"plan:{plan_id}:seq:{seq}:{flow}",
                "plan_id": plan_id,
                "flow": flow,
                "payload": {"plan_id": plan_id, "seq": seq, **payload},
                "created_at": now,
                "status": "pending",
                "attempts": 0,
                "last_error": "",
            }
            for flow in flows
        ],
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
    plan = load_plan(session, plan_id, expected_version)
    definition = catalog.by_hash(session, plan.definition_hash)
    spec = _transition(definition, plan, event)
    if spec.approval:
        status = chain_status(session, plan, definition, spec)
        raise NotAllowedNow(
            f"'{event}' happens when its approval chain '{spec.approval}' is signed: "
            f"use `plan sign`; waiting for {', '.join(status.waiting_for)}",
            plan_id=plan.id,
            event=event,
            state=plan.state,
        )
    person = load_actor(session, actor)
    role = authorise(session, plan, definition, person, list(spec.roles), event)
    ctx = Context(
        session=session,
        plan=plan,
        definition=definition,
        event=event,
        actor=person,
        role=role,
        now=now,
        inputs=_checked_inputs(spec, inputs),
    )
    _check_guards(ctx, spec)
    return _apply(ctx, spec, comment)


_ROUND = select(SIGNATURE.c.person_id, SIGNATURE.c.role, SIGNATURE.c.step).where(
    SIGNATURE.c.plan_id == bindparam("plan_id"),
    SIGNATURE.c.event == bindparam("event"),
    SIGNATURE.c.epoch == bindparam("epoch"),
    SIGNATURE.c.content_digest == bindparam("content_digest"),
)


def round_signatures(session: Session, plan: PlanSnapshot, event: str) -> list[_Sig]:
    """Signatures of this round that still match what the plan says now."""
    rows = session.execute(
        _ROUND,
        {
            "plan_id": plan.id,
            "event": event,
            "epoch": plan.epoch,
            "content_digest": plan.content_digest,
        },
    )
    return [_Sig(r.person_id, r.role, r.step) for r in rows]


def _missing(step: ChainStep, signed: list[_Sig]) -> tuple[str, ...]:
    if step.quorum is None:
        return tuple(r for r in step.roles if not any(s.role == r for s in signed))
    if len({s.person_id for s in signed}) >= step.quorum:
        return ()
    return (f"{step.quorum - len({s.person_id for s in signed})} of {', '.join(step.roles)}",)


def chain_progress(chain: ApprovalChain, name: str, signed: list[_Sig]) -> ChainStatus:
    for index, step in enumerate(chain.steps):
        missing = _missing(step, [s for s in signed if s.step == index])
        if missing:
            return ChainStatus(name, index, missing, signed)
    return ChainStatus(name, None, (), signed)


def chain_status(
    session: Session, plan: PlanSnapshot, definition: CompiledDefinition, spec: TransitionSpec
) -> ChainStatus:
    assert spec.approval is not None
    chain = definition.spec.approval_chains[spec.approval]
    return chain_progress(chain, spec.approval, round_signatures(session, plan, spec.trigger))


def _chain_transition(
    definition: CompiledDefinition, plan: PlanSnapshot, event: str | None
) -> TransitionSpec:
    if event is not None:
        spec = _transition(definition, plan, event)
        if spec.approval is None:
            raise NotAllowedNow(
                f"'{event}' needs no signatures: fire it instead",
                plan_id=plan.id,
                event=event,
                state=plan.state,
            )
        return spec
    chained = [t for t in definition.transitions_from(plan.state) if t.approval]
    if len(chained) == 1:
        return chained[0]
    if not chained:
        raise NotAllowedNow(
            f"plan {plan.id} is '{plan.state}': nothing waits for signatures",
            plan_id=plan.id,
            event="sign",
            state=plan.state,
        )
    names = ", ".join(t.trigger for t in chained)
    raise InvalidInput(f"several events wait for signatures ({names}): say which", field="event")


def _role_to_sign(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    chain: ApprovalChain,
    actor: Actor,
    held: set[str],
    roles: Sequence[str],
) -> str | None:
    """The first of `roles` that `actor` holds, or stands in for as a deputy."""
    for role in roles:
        if _holds(session, plan, definition, actor, held, role):
            return role
        for deputy in chain.may_sign_for.get(role, []):
            if _holds(session, plan, definition, actor, held, deputy):
                return role
    return None


def signing_role(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    chain: ApprovalChain,
    status: ChainStatus,
    actor: Actor,
) -> str:
    """The role of the waiting step `actor` signs in (a deputy signs for the role it
    stands in for); NotAllowedNow when their step comes later; Forbidden when the
    chain has no step for them."""
    assert status.step is not None
    held = roles_of(session, plan.id, actor)
    open_roles = [r for r in chain.steps[status.step].roles if r in status.waiting_for]
    open_roles = open_roles or list(chain.steps[status.step].roles)  # quorum steps
    role = _role_to_sign(session, plan, definition, chain, actor, held, open_roles)
    if role is not None:
        return role
    for later in range(status.step + 1, len(chain.steps)):
        role = _role_to_sign(
            session, plan, definition, chain, actor, held, chain.steps[later].roles
        )
        if role is not None:
            # Their turn comes: not a missing right, an order (a 409, not a 403).
            raise NotAllowedNow(
                f"{actor.key} signs step {later + 1} of '{status.chain}' on plan {plan.id} "
                f"as {role}, after step {status.step + 1}: it waits for "
                f"{', '.join(status.waiting_for)} first",
                plan_id=plan.id,
                event="sign",
                state=plan.state,
            )
    if held == {"employee"}:
        why = "no one approves their own plan"
    else:
        why = f"{actor.key}'s roles: {', '.join(sorted(held)) or 'none'}"
    raise Forbidden(
        f"{actor.key} may not sign step {status.step + 1} of '{status.chain}' on plan {plan.id}: "
        f"it waits for {', '.join(status.waiting_for)}; {why}",
        plan_id=plan.id,
        event="sign",
        actor=actor.key,
    )


def sign(
    *,
    session: Session,
    plan_id: int,
    actor: str,
    now: datetime,
    event: str | None = None,
    comment: str | None = None,
    inputs: Mapping[str, str] | None = None,
    expected_version: int | None = None,
) -> Signed:
    """Sign the current step of the approval chain; the last signature fires the transition."""
    plan = load_plan(session, plan_id, expected_version)
    definition = catalog.by_hash(session, plan.definition_hash)
    spec = _chain_transition(definition, plan, event)
    assert spec.approval is not None
    chain = definition.spec.approval_chains[spec.approval]
    status = chain_status(session, plan, definition, spec)
    if status.step is None:
        # The chain is complete, yet the plan read above still waits for it: another
        # signer completed it between the two reads. Nothing is left to sign here.
        raise Conflict(plan.id, plan.version)
    person = load_actor(session, actor)
    if any(s.person_id == person.id for s in status.signed):
        raise NotAllowedNow(
            f"{actor} has already signed '{spec.trigger}' on plan {plan.id}",
            plan_id=plan.id,
            event=spec.trigger,
            state=plan.state,
        )
    role = signing_role(session, plan, definition, chain, status, person)
    ctx = Context(
        session=session,
        plan=plan,
        definition=definition,
        event=spec.trigger,
        actor=person,
        role=role,
        now=now,
        inputs=_checked_inputs(spec, inputs),
    )
    _check_guards(ctx, spec)
    step = status.step
    entry = audit.Entry(
        kind="signature",
        event=f"sign:{spec.trigger}",
        from_state=plan.state,
        to_state=plan.state,
        actor=person.key,
        role=role,
        at=now,
        comment=comment or "",
    )
    epoch, digest = plan.epoch, plan.content_digest
    audit.advance(session, plan, entry)
    session.execute(
        insert(SIGNATURE).values(
            plan_id=plan.id,
            person_id=person.id,
            role=role,
            event=spec.trigger,
            epoch=epoch,
            step=step,
            signed_at=now,
            comment=comment or "",
            content_digest=digest,
        )
    )
    after = chain_progress(chain, spec.approval, [*status.signed, _Sig(person.id or 0, role, step)])
    fired = _apply(ctx, spec, comment) if after.step is None else None
    if after.step is not None and after.step != step:  # the next step's signers are asked
        write_outbox(
            session,
            plan.id,
            plan.audit_seq,
            ("request_signatures",),
            {"event": spec.trigger, "step": after.step},
            now,
        )
    return Signed(plan.id, spec.trigger, role, step, after.waiting_for, fired)
