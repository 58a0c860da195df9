"""Where a plan's approval chain stands in the current round: the signatures that still
count (those given for what the plan says now) and the step that waits for whom."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlmodel import Session

from models.tables import SIGNATURE
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import ApprovalChain, ChainStep, TransitionSpec
from states.engine.context import PlanSnapshot


@dataclass(frozen=True)
class RoundSignature:
    """A signature of the current round: who, in which role, at which step."""

    person_id: int
    role: str
    step: int


@dataclass
class ChainStatus:
    """Where an approval chain stands in the current round."""

    chain: str
    step: int | None  # None: complete
    waiting_for: tuple[str, ...]
    signed: list[RoundSignature] = field(default_factory=list)


# Built once: it runs on every signature and every signature reminder.
_ROUND = select(SIGNATURE.c.person_id, SIGNATURE.c.role, SIGNATURE.c.step).where(
    SIGNATURE.c.plan_id == bindparam("plan_id"),
    SIGNATURE.c.event == bindparam("event"),
    SIGNATURE.c.epoch == bindparam("epoch"),
    SIGNATURE.c.content_digest == bindparam("content_digest"),
)


def round_signatures(session: Session, plan: PlanSnapshot, event: str) -> list[RoundSignature]:
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
    return [RoundSignature(r.person_id, r.role, r.step) for r in rows]


def _missing(step: ChainStep, signed: list[RoundSignature]) -> tuple[str, ...]:
    if step.quorum is None:
        return tuple(r for r in step.roles if not any(s.role == r for s in signed))
    if len({s.person_id for s in signed}) >= step.quorum:
        return ()
    return (f"{step.quorum - len({s.person_id for s in signed})} of {', '.join(step.roles)}",)


def chain_progress(chain: ApprovalChain, name: str, signed: list[RoundSignature]) -> ChainStatus:
    """The first step still missing a signature, given the round's signatures."""
    for index, step in enumerate(chain.steps):
        missing = _missing(step, [s for s in signed if s.step == index])
        if missing:
            return ChainStatus(name, index, missing, signed)
    return ChainStatus(name, None, (), signed)


def chain_status(
    session: Session, plan: PlanSnapshot, definition: CompiledDefinition, spec: TransitionSpec
) -> ChainStatus:
    """Where the approval chain of `spec` stands on the plan now."""
    assert spec.approval is not None
    chain = definition.spec.approval_chains[spec.approval]
    return chain_progress(chain, spec.approval, round_signatures(session, plan, spec.trigger))
