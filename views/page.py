"""The plan page's read model: one plan's whole picture for one viewer — its record
(`views.record`: diagnosis, goals with their latest measurement, milestones on a
timeline, actions and who holds them, signatures), where each approval chain stands,
the verified history, and what the viewer may do now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from people import access
from people.access import Viewer
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import TransitionSpec
from states.engine.chains import chain_status
from states.engine.context import PlanSnapshot
from views.permitted import Permitted, permitted
from views.record import (
    Action,
    AuditLine,
    PlanRecord,
    ShowsRecord,
    plan_history,
    plan_record,
)


@dataclass(frozen=True, slots=True)
class ChainStanding:
    """Where an approval chain the plan waits for stands: its step (None: complete), how
    many steps it has, and the roles it still waits for."""

    transition: TransitionSpec
    step: int | None
    steps: int
    waiting_for: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlanView(ShowsRecord):
    """The plan as one viewer sees it now."""

    record: PlanRecord
    definition: CompiledDefinition
    relations: frozenset[str]
    chains: tuple[ChainStanding, ...]
    history: tuple[AuditLine, ...]
    verified: audit.VerifyReport
    may: Permitted

    @property
    def snapshot(self) -> PlanSnapshot:
        return self.record.snapshot

    @property
    def actions(self) -> tuple[Action, ...]:
        """By start, those without a start first."""
        return tuple(sorted(self.record.actions, key=_by_start))


def _by_start(action: Action) -> tuple[bool, date, int]:
    return action.starts is not None, action.starts or date.min, action.id


def _chains(
    session: Session, plan: PlanSnapshot, definition: CompiledDefinition
) -> tuple[ChainStanding, ...]:
    standing = []
    for spec in definition.transitions_from(plan.state):
        if spec.approval:
            status = chain_status(session, plan, definition, spec)
            steps = len(definition.spec.approval_chains[spec.approval].steps)
            standing.append(ChainStanding(spec, status.step, steps, status.waiting_for))
    return tuple(standing)


def plan_view(session: Session, *, viewer: Viewer, plan_id: int, now: datetime) -> PlanView:
    """The plan as `viewer` may see it (PlanNotFound when it is not theirs to see). The
    history is verified on every view, from the very records the page shows: an
    auditor never sees "verified" for a chain that a changed record has broken."""
    held = access.check_plan(session, viewer, plan_id, "read")
    record = plan_record(session, plan_id, today=now.date())
    snapshot = record.snapshot
    definition = catalog.by_hash(session, snapshot.definition_hash)
    history = plan_history(session, plan_id)
    return PlanView(
        record=record,
        definition=definition,
        relations=frozenset(held),
        chains=_chains(session, snapshot, definition),
        history=history,
        verified=audit.verify_chain(
            plan_id, list(history), (snapshot.audit_seq, snapshot.audit_head)
        ),
        may=permitted(
            session, viewer=viewer, plan=snapshot, definition=definition, relations=held, now=now
        ),
    )
