"""The whole picture of one plan as `plan show` and `GET /api/plans/{id}` give it: the
plan's record (`views.record`) and what can happen next, with whose signatures an
approval chain waits for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from states.definitions import catalog
from states.engine.chains import chain_status
from states.engine.context import PlanSnapshot
from views.record import (
    Action,
    AdjustmentRow,
    EvaluationRow,
    Goal,
    PlanRecord,
    ShowsRecord,
    plan_record,
)


@dataclass(frozen=True, slots=True)
class NextEvent:
    """An event the plan's state allows, who may fire it, and for an approval chain the
    roles whose signatures it still waits for."""

    event: str
    to: str
    roles: tuple[str, ...]
    approval: str | None
    waiting_for: tuple[str, ...] = ()


# What the plain-data form (`as_json`) gives of each row, in this order.
_PERSON_FIELDS = ("role", "key", "name", "email", "locale")
_GOAL_FIELDS = tuple(Goal.__dataclass_fields__)[:13]
_MILESTONE_FIELDS = ("key", "title", "due", "criterion", "status", "done_at")
_ACTION_FIELDS = tuple(Action.__dataclass_fields__)[:10]
_SIGNATURE_FIELDS = ("event", "step", "role", "person", "signed_at", "comment", "content_digest")
_ADJUSTMENT_FIELDS = AdjustmentRow._fields[:11]
_EVALUATION_FIELDS = EvaluationRow._fields[:7]


def _picked(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


@dataclass(frozen=True, slots=True)
class PlanDetail(ShowsRecord):
    """The plan's record, and what can happen next."""

    record: PlanRecord
    next_events: tuple[NextEvent, ...]

    @property
    def progress_reports(self) -> int:
        return len(self.record.progress_reports)

    def as_json(self) -> dict[str, Any]:
        """Plain data for `plan show --json`: every stored column of each row."""
        record = self.record
        evaluation = record.evaluation
        return {
            "plan": record.plan._asdict(),
            "people": [_picked(p, _PERSON_FIELDS) for p in record.people.named],
            "evidence": [row._asdict() for row in record.evidence],
            "problems": [row._asdict() for row in record.problems],
            "goals": [_goal(goal) for goal in record.goals],
            "actions": [_picked(action, _ACTION_FIELDS) for action in record.actions],
            "signatures": [_picked(s, _SIGNATURE_FIELDS) for s in record.signatures],
            "adjustments": [_picked(a, _ADJUSTMENT_FIELDS) for a in record.adjustments],
            "progress_reports": self.progress_reports,
            "evaluation": _picked(evaluation, _EVALUATION_FIELDS) if evaluation else None,
            "results": [row._asdict() for row in record.results],
            "next_events": [_next_event(event) for event in self.next_events],
        }


def _goal(goal: Goal) -> dict[str, Any]:
    return {
        **_picked(goal, _GOAL_FIELDS),
        "milestones": [_picked(m, _MILESTONE_FIELDS) for m in goal.milestones],
        "actual": goal.actual,
    }


def _next_event(event: NextEvent) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "event": event.event,
        "to": event.to,
        "roles": list(event.roles),
        "approval": event.approval,
    }
    if event.approval:
        shown["waiting_for"] = list(event.waiting_for)
    return shown


def next_events(session: Session, plan: PlanSnapshot) -> tuple[NextEvent, ...]:
    definition = catalog.by_hash(session, plan.definition_hash)
    return tuple(
        NextEvent(
            event=transition.trigger,
            to=transition.dest,
            roles=tuple(transition.roles),
            approval=transition.approval,
            waiting_for=chain_status(session, plan, definition, transition).waiting_for
            if transition.approval
            else (),
        )
        for transition in definition.transitions_from(plan.state)
    )


def plan_detail(session: Session, plan_id: int, *, today: date) -> PlanDetail:
    """The plan's record and what can happen next (PlanNotFound: no such plan)."""
    record = plan_record(session, plan_id, today=today)
    return PlanDetail(record, next_events(session, record.snapshot))
