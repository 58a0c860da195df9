"""Who may act on a plan: the roles a person holds on it or derives from the organisation,
the role they act in for an event or an activity (else Forbidden), and whose turn it is
to sign an approval chain (a later step is NotAllowedNow, no step at all Forbidden)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import Session

from people.roles import roles_held
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import ApprovalChain
from states.engine.chains import ChainStatus
from states.engine.context import Actor, PlanSnapshot
from states.engine.registry import DERIVED_ROLES
from states.errors import Forbidden, NotAllowedNow


def roles_of(
    session: Session, plan_id: int, actor: Actor, named: Collection[str] | None = None
) -> set[str]:
    """The actor's roles on the plan (`named`: the roles the plan names them in, when
    already read); the plan's own employee acts only as employee."""
    if actor.id is None:
        return {"system"}
    held = set(roles_held(session, plan_id=plan_id, person_id=actor.id) if named is None else named)
    return {"employee"} if "employee" in held else held


def _holds(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    actor: Actor,
    held: set[str],
    role: str,
) -> bool:
    """Whether `actor` holds `role` on the plan: among `held`, or derived (a department head)."""
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
    *,
    named: Collection[str] | None = None,
) -> str:
    """The first of the `allowed` roles that `actor` holds; Forbidden when none (`named`:
    the roles the plan names them in, when already read with the plan)."""
    held = roles_of(session, plan.id, actor, named)
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


def _not_their_step(
    plan: PlanSnapshot, status: ChainStatus, actor: Actor, held: set[str]
) -> Forbidden:
    assert status.step is not None
    if held == {"employee"}:
        why = "no one approves their own plan"
    else:
        why = f"{actor.key}'s roles: {', '.join(sorted(held)) or 'none'}"
    return Forbidden(
        f"{actor.key} may not sign step {status.step + 1} of '{status.chain}' on plan {plan.id}: "
        f"it waits for {', '.join(status.waiting_for)}; {why}",
        plan_id=plan.id,
        event="sign",
        actor=actor.key,
    )


def signing_role(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    chain: ApprovalChain,
    status: ChainStatus,
    actor: Actor,
    *,
    named: Collection[str] | None = None,
) -> str:
    """The role of the waiting step `actor` signs in (a deputy signs for the role it
    stands in for); NotAllowedNow when their step comes later; Forbidden when the
    chain has no step for them."""
    assert status.step is not None
    held = roles_of(session, plan.id, actor, named)
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
    raise _not_their_step(plan, status, actor, held)
