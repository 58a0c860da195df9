"""A plan's events as messages: what a committed transition announces and to whom (the
transition's announcement in its definition), the requests to sign that a waiting
approval chain sends, and the news that the evaluation report is ready.

Each reads the plan's record (`views.record`) once per dispatch while the plan stays
at the same version (`PlanReads`), and records one message per reader, with a dedup key
made from the outbox row, so that carrying out a row twice records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from models.tables import PLAN
from states.definitions import catalog
from states.definitions.announcements import REPORT_MESSAGE, sending_effect
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import Announcement, Effect
from states.engine.chains import chain_status
from views.calendars import CANCEL, REQUEST
from views.record import PlanRecord, plan_record
from views.report import EvaluationReport
from workflows.messages import base_context, invitations, recipients, record
from workflows.outbox import OutboxItem
from workflows.reminders import signature_context

_VERSION = select(PLAN.c.version).where(PLAN.c.id == bindparam("plan_id"))


@dataclass
class PlanReads:
    """The records read during one dispatch, reused while their plan's version (bumped
    by every change to the plan or its records) is the one read."""

    records: dict[int, PlanRecord] = field(default_factory=dict)

    def record(self, session: Session, plan_id: int, now: datetime) -> PlanRecord:
        known = self.records.get(plan_id)
        if known is not None:
            version = session.execute(_VERSION, {"plan_id": plan_id}).scalar()
            if version == known.plan.version:
                return known
        self.records[plan_id] = plan_record(session, plan_id, today=now.date())
        return self.records[plan_id]


def _announced_now(definition: CompiledDefinition, event: str) -> Announcement | None:
    """What `event`'s transition announces once it has committed (the evaluation report's
    news waits for the report)."""
    found = definition.announcement(event)
    if found is None or sending_effect(found.message) is not Effect.ANNOUNCE:
        return None
    return found


def _report_news(definition: CompiledDefinition, state: str) -> Announcement | None:
    """The announcement that waits for the evaluation report, of a transition into
    `state` (where the plan is once evaluated)."""
    for transition in definition.spec.transitions:
        found = definition.announcement(transition.trigger)
        if transition.dest == state and found and found.message == REPORT_MESSAGE:
            return found
    return None


def _signatures(plan: PlanRecord, event: str, epoch: int) -> list[dict[str, Any]]:
    """Who signed `event` in the round of `epoch`, oldest first."""
    return [
        {"name": s.name, "role": s.role, "signed_on": s.signed_at.date()}
        for s in plan.signatures
        if s.event == event and s.epoch == epoch
    ]


def _role_of(plan: PlanRecord, person_id: int) -> str:
    """The first part `person_id` holds in the plan ("" for none)."""
    return next((h.role for h in plan.people.named if h.id == person_id), "")


def _adjustments(plan: PlanRecord, status: str) -> list[dict[str, Any]]:
    return [
        {
            "target": plan.milestone_title(a.target_key),
            "target_kind": a.target_kind,
            "changes": [
                {"field": f, "before": a.before.get(f), "after": v} for f, v in a.after.items()
            ],
            "reason": a.reason,
            "proposed_by": a.proposed_by_name,
            "proposed_by_role": _role_of(plan, a.proposed_by_id),
            "proposed_on": a.proposed_at.date(),
        }
        for a in plan.adjustments
        if a.status == status
    ]


def _goals(plan: PlanRecord) -> list[dict[str, Any]]:
    shown = ("title", "baseline", "target", "unit", "deadline", "direction")
    return [{name: getattr(goal, name) for name in shown} for goal in plan.goals]


def _signers(plan: PlanRecord, definition: CompiledDefinition, event: str) -> list[dict[str, str]]:
    """Who signs what the plan waits for once `event` has brought it to its state, as the
    definition's approval chains from there say (every step, in order; each person once)."""
    states = {t.dest for t in definition.spec.transitions if t.trigger == event}
    roles = [
        role
        for state in sorted(states)
        for transition in definition.transitions_from(state)
        if transition.approval
        for step in definition.spec.approval_chains[transition.approval].steps
        for role in step.roles
    ]
    found: dict[int, dict[str, str]] = {}
    for role in dict.fromkeys(roles):
        for holder in plan.people.holders(role):
            found.setdefault(holder.id, {"name": holder.name, "role": role})
    return list(found.values())


def _agreed(
    plan: PlanRecord, definition: CompiledDefinition, event: str, now: datetime
) -> dict[str, Any] | None:
    # The agreement's signatures are those of the round that just ended.
    signatures = _signatures(plan, event, plan.plan.epoch - 1)
    return {"agreement": {"agreed_on": now.date(), "signatures": signatures}}


def _started(
    plan: PlanRecord, definition: CompiledDefinition, event: str, now: datetime
) -> dict[str, Any] | None:
    return {"started_on": now.date(), "goals": _goals(plan)}


def _proposed(
    plan: PlanRecord, definition: CompiledDefinition, event: str, now: datetime
) -> dict[str, Any] | None:
    proposed = _adjustments(plan, "proposed")
    if not proposed:
        return None
    # Who re-confirms it: the signers of the approval the proposal makes the plan wait for.
    return {"adjustment": {**proposed[-1], "signers": _signers(plan, definition, event)}}


def _reconfirmed(
    plan: PlanRecord, definition: CompiledDefinition, event: str, now: datetime
) -> dict[str, Any] | None:
    confirmed = _adjustments(plan, "confirmed")
    return {"adjustments": confirmed, "confirmed_on": now.date()} if confirmed else None


# What each announcement a transition may make says (None: nothing to say, yet); the
# names are `states.engine.registry.ANNOUNCEMENTS` but the report's news.
Says = Callable[[PlanRecord, CompiledDefinition, str, datetime], dict[str, Any] | None]
SAYS: dict[str, Says] = {
    "plan_agreed": _agreed,
    "plan_started": _started,
    "adjustment_proposed": _proposed,
    "adjustment_reconfirmed": _reconfirmed,
}


def announce(session: Session, *, item: OutboxItem, now: datetime, reads: PlanReads) -> int:
    """Tell the plan's people what the transition of this outbox row announces."""
    plan = reads.record(session, item.plan_id, now)
    event = str(item.payload.get("event"))
    definition = catalog.by_hash(session, plan.plan.definition_hash)
    announcement = _announced_now(definition, event)
    if announcement is None:
        return 0
    kind = announcement.message
    context = SAYS[kind](plan, definition, event, now)
    if context is None:
        return 0
    return record(
        session,
        kind=kind,
        plan_id=item.plan_id,
        readers=recipients(plan.people, announcement.to),
        context={**base_context(plan.plan, plan.people), **context},
        dedup_key=f"{kind}|{item.key}",
        now=now,
        calendars=_invitations(plan, definition, kind, now),
    )


def _invitations(
    plan: PlanRecord, definition: CompiledDefinition, kind: str, now: datetime
) -> dict[str, str]:
    """What an announcement's message invites to: a plan that ended cancels every event;
    a start sends them all; a confirmed adjustment sends again the milestones it moved
    (same UID, the next SEQUENCE)."""
    if plan.plan.state in definition.final_states:
        return invitations(plan, method=CANCEL, now=now)
    if kind == "plan_started":
        return invitations(plan, method=REQUEST, now=now)
    if kind == "adjustment_reconfirmed":
        moved = {
            f"milestone:{a.target_key}"
            for a in plan.adjustments
            if a.status == "confirmed" and a.target_kind == "milestone"
        }
        return invitations(plan, method=REQUEST, now=now, only=moved) if moved else {}
    return {}


def request_signatures(
    session: Session, *, item: OutboxItem, now: datetime, reads: PlanReads
) -> int:
    """Ask the people whose signature the plan's approval chains now wait for."""
    plan = reads.record(session, item.plan_id, now)
    snapshot = plan.snapshot
    definition = catalog.by_hash(session, snapshot.definition_hash)
    recorded = 0
    for transition in definition.transitions_from(snapshot.state):
        if transition.approval is None:
            continue
        status = chain_status(session, snapshot, definition, transition)
        if status.step is None:
            continue
        chain = definition.spec.approval_chains[transition.approval]
        signed = {s.person_id for s in status.signed}
        readers = recipients(plan.people, chain.steps[status.step].roles)
        context = signature_context(session, snapshot, transition.trigger, now)
        recorded += record(
            session,
            kind="signature_requested",
            plan_id=snapshot.id,
            readers=[r for r in readers if r.person_id not in signed],
            context={**base_context(plan.plan, plan.people), **context},
            dedup_key=f"signature_requested|{item.key}|step:{status.step}",
            now=now,
        )
    return recorded


def announce_report(
    session: Session, *, report: EvaluationReport, now: datetime, reads: PlanReads
) -> int:
    """Tell the plan's people that its evaluation report is ready, with each goal's result."""
    if report.evaluation is None:
        return 0
    plan = reads.record(session, report.plan.id, now)
    definition = catalog.by_hash(session, plan.plan.definition_hash)
    news = _report_news(definition, plan.plan.state)
    if news is None:
        return 0
    results = [
        {
            "goal": g.title,
            "baseline": g.baseline,
            "target": g.target,
            "actual": g.result.actual if g.result else None,
            "unit": g.unit,
            "met": bool(g.result and g.result.met),
        }
        for g in report.goals
    ]
    evaluation = {
        "outcome": report.evaluation.outcome,
        "evaluated_on": report.evaluation.evaluated_at.date(),
        "feedback": report.evaluation.feedback,
        "results": results,
    }
    return record(
        session,
        kind=news.message,
        plan_id=plan.plan.id,
        readers=recipients(plan.people, news.to),
        context={**base_context(plan.plan, plan.people), "evaluation": evaluation},
        dedup_key=f"{news.message}|plan:{plan.plan.id}",
        now=now,
        calendars=invitations(plan, method=CANCEL, now=now),
    )
