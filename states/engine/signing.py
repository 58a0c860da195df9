"""Signing an approval chain, in the caller's one transaction: the signature of the step
that waits is recorded and audited, and the last one the chain needs fires its
transition; when the next step opens, its signers are asked. `sign` never commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from models.tables import SIGNATURE
from states import audit
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import Effect, TransitionSpec
from states.engine.authority import signing_role
from states.engine.chains import ChainStatus, RoundSignature, chain_progress, chain_status
from states.engine.context import Context, PlanSnapshot
from states.engine.effects import write_outbox
from states.engine.firing import (
    Fired,
    apply_transition,
    checked_context,
    load_plan_and_actor,
    not_possible_there,
    transition_of,
)
from states.errors import Conflict, InvalidInput, NotAllowedNow
from states.evidence import copies
from states.evidence.receipts import Receipt


@dataclass(frozen=True)
class Signed:
    """A signature recorded; `fired` is set when it was the last one the chain needed."""

    plan_id: int
    event: str
    role: str
    step: int
    waiting_for: tuple[str, ...]
    fired: Fired | None = None
    receipt: Receipt | None = None  # None when no signature was needed (a fired event)
    copy: int | None = None  # the signed copy's number, when the chain completed


def _chain_transition(
    definition: CompiledDefinition, plan: PlanSnapshot, event: str | None
) -> TransitionSpec:
    """The transition waiting for signatures: `event`'s, or the only one there is."""
    if event is not None:
        spec = transition_of(definition, plan, event)
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
        raise not_possible_there(plan, "sign", "nothing waits for signatures")
    names = ", ".join(t.trigger for t in chained)
    raise InvalidInput(f"several events wait for signatures ({names}): say which", field="event")


def _waiting_status(
    session: Session, plan: PlanSnapshot, definition: CompiledDefinition, spec: TransitionSpec
) -> ChainStatus:
    status = chain_status(session, plan, definition, spec)
    if status.step is None:
        # The chain is complete, yet the plan read above still waits for it: another
        # signer completed it between the two reads. Nothing is left to sign here.
        raise Conflict(plan.id, plan.version)
    return status


def _record_signature(
    ctx: Context, step: int, comment: str | None
) -> tuple[RoundSignature, Receipt]:
    """The signature's audit record and its row, for what the plan says now; the receipt
    names that record."""
    plan = ctx.plan
    epoch, digest = plan.epoch, plan.content_digest
    entry = audit.entry(ctx, "signature", event=f"sign:{ctx.event}", comment=comment or "")
    seq = audit.advance(ctx.session, plan, entry)
    chained = entry._replace(plan_id=plan.id, seq=seq, hash=plan.audit_head, content_digest=digest)
    ctx.session.execute(
        insert(SIGNATURE).values(
            plan_id=plan.id,
            person_id=ctx.actor.id,
            role=ctx.role,
            event=ctx.event,
            epoch=epoch,
            step=step,
            signed_at=ctx.now,
            comment=comment or "",
            content_digest=digest,
        )
    )
    return RoundSignature(ctx.actor.id or 0, ctx.role, step), Receipt.of(chained)


def _complete(ctx: Context, spec: TransitionSpec, comment: str | None) -> tuple[Fired, int]:
    """The chain's last signature: the transition fires, and the round's copy is sealed
    (the content its signatures bind) for the clockwork to render."""
    epoch, digest = ctx.plan.epoch, ctx.plan.content_digest
    fired = apply_transition(ctx, spec, comment)
    number = copies.seal(
        ctx.session,
        plan_id=fired.plan_id,
        event=spec.trigger,
        epoch=epoch,
        seq=fired.seq,
        digest=digest,
        state=fired.to_state,
        now=ctx.now,
    )
    write_outbox(
        ctx.session, fired.plan_id, fired.seq, (Effect.ARCHIVE_COPY,), {"copy": number}, ctx.now
    )
    return replace(fired, flows=(*fired.flows, Effect.ARCHIVE_COPY)), number


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
    plan, definition, acting = load_plan_and_actor(session, plan_id, actor, expected_version)
    spec = _chain_transition(definition, plan, event)
    assert spec.approval is not None
    chain = definition.spec.approval_chains[spec.approval]
    status = _waiting_status(session, plan, definition, spec)
    person = acting.actor()
    if any(s.person_id == person.id for s in status.signed):
        raise NotAllowedNow(
            f"{actor} has already signed '{spec.trigger}' on plan {plan.id}",
            plan_id=plan.id,
            event=spec.trigger,
            state=plan.state,
        )
    role = signing_role(session, plan, definition, chain, status, person, named=acting.named_roles)
    ctx = checked_context(
        session, plan, definition, spec, actor=person, role=role, now=now, inputs=inputs
    )
    step = status.step
    assert step is not None
    signature, receipt = _record_signature(ctx, step, comment)
    after = chain_progress(chain, spec.approval, [*status.signed, signature])
    fired, copy = _complete(ctx, spec, comment) if after.step is None else (None, None)
    if after.step is not None and after.step != step:  # the next step's signers are asked
        write_outbox(
            session,
            plan.id,
            plan.audit_seq,
            (Effect.REQUEST_SIGNATURES,),
            {"event": spec.trigger, "step": after.step},
            now,
        )
    return Signed(plan.id, spec.trigger, role, step, after.waiting_for, fired, receipt, copy)
