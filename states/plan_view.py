"""The plan page's read model: one plan's whole picture for one viewer — diagnosis,
goals with their latest measurement, milestones on a timeline, actions and who holds
them, signatures, the verified history, and what the viewer may do now.

A fixed number of queries whatever the plan's size (one per kind of row, never one
per goal or milestone), so the page stays fast for long plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session

from models.audit import AuditRecord
from models.tables import (
    ACTION,
    ACTION_COLLABORATOR,
    ACTION_RESOURCE,
    ADJUSTMENT,
    EVALUATION,
    EVIDENCE,
    GOAL,
    MEASUREMENT,
    MILESTONE,
    PERSON,
    PLAN,
    PLAN_ROLE,
    PROBLEM,
    SIGNATURE,
)
from states import access, audit, catalog
from states.access import Viewer
from states.actions import attainment, target_met
from states.compiled import CompiledDefinition
from states.context import PlanSnapshot
from states.engine import chain_status, load_plan
from states.permitted import Permitted, permitted


@dataclass(frozen=True)
class PlanView:
    plan: dict[str, Any]
    snapshot: PlanSnapshot
    definition: CompiledDefinition
    relations: set[str]
    people: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    goals: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    signatures: list[dict[str, Any]]
    chains: list[dict[str, Any]]
    adjustments: list[dict[str, Any]]
    evaluation: dict[str, Any] | None
    history: list[AuditRecord]
    verified: audit.VerifyReport
    may: Permitted


def _dicts(session: Session, query: Select[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(query)]


def milestone_status(due: date, done: bool, today: date) -> str:
    """done; late (past due, not done, judged on `today`); or due."""
    if done:
        return "done"
    return "late" if due < today else "due"


def _latest_measurements(session: Session, plan_id: int) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(MEASUREMENT.c.goal_id, MEASUREMENT.c.value, MEASUREMENT.c.measured_on)
        .where(MEASUREMENT.c.plan_id == plan_id)
        .order_by(MEASUREMENT.c.goal_id, MEASUREMENT.c.measured_on.desc(), MEASUREMENT.c.id.desc())
    )
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:
        latest.setdefault(row.goal_id, {"value": row.value, "measured_on": row.measured_on})
    return latest


def _goals(
    session: Session, plan_id: int, milestones: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    goals = _dicts(
        session, select(GOAL).where(GOAL.c.plan_id == plan_id).order_by(GOAL.c.priority, GOAL.c.id)
    )
    latest = _latest_measurements(session, plan_id)
    for goal in goals:
        measured = latest.get(goal["id"])
        goal["actual"] = measured["value"] if measured else None
        goal["measured_on"] = measured["measured_on"] if measured else None
        goal["attainment"] = None
        goal["met"] = None
        if measured:
            goal["attainment"] = attainment(goal["baseline"], goal["target"], measured["value"],
                                            goal["direction"])  # fmt: skip
            goal["met"] = target_met(goal["target"], measured["value"], goal["direction"])
        goal["milestones"] = [m for m in milestones if m["goal_id"] == goal["id"]]
    return goals


def _milestones(session: Session, plan_id: int, today: date) -> list[dict[str, Any]]:
    rows = _dicts(
        session,
        select(MILESTONE.c.id, MILESTONE.c.goal_id, MILESTONE.c.key, MILESTONE.c.title,
               MILESTONE.c.due, MILESTONE.c.criterion, MILESTONE.c.status, MILESTONE.c.done_at,
               GOAL.c.key.label("goal"))
        .join(GOAL, GOAL.c.id == MILESTONE.c.goal_id)
        .where(MILESTONE.c.plan_id == plan_id).order_by(MILESTONE.c.due, MILESTONE.c.id),
    )  # fmt: skip
    for row in rows:
        row["timeline"] = milestone_status(row["due"], row["status"] == "done", today)
        row["days_late"] = (today - row["due"]).days if row["timeline"] == "late" else 0
    return rows


def _actions(session: Session, plan_id: int) -> list[dict[str, Any]]:
    executor, supporter = PERSON.alias("executor"), PERSON.alias("supporter")
    actions = _dicts(
        session,
        select(ACTION.c.id, ACTION.c.key, ACTION.c.title, ACTION.c.starts, ACTION.c.ends,
               ACTION.c.recurrence, GOAL.c.key.label("goal"),
               executor.c.name.label("executor"), supporter.c.name.label("supporter"))
        .join(GOAL, GOAL.c.id == ACTION.c.goal_id)
        .join(executor, executor.c.id == ACTION.c.executor_id)
        .outerjoin(supporter, supporter.c.id == ACTION.c.supporter_id)
        .where(ACTION.c.plan_id == plan_id).order_by(ACTION.c.starts, ACTION.c.id),
    )  # fmt: skip
    ids = [a["id"] for a in actions]
    collaborators = session.execute(
        select(ACTION_COLLABORATOR.c.action_id, PERSON.c.name)
        .join(PERSON, PERSON.c.id == ACTION_COLLABORATOR.c.person_id)
        .where(ACTION_COLLABORATOR.c.action_id.in_(ids))
    ).all()
    resources = _dicts(session, select(ACTION_RESOURCE).where(ACTION_RESOURCE.c.action_id.in_(ids)))
    for action in actions:
        action["collaborators"] = [c.name for c in collaborators if c.action_id == action["id"]]
        action["resources"] = [r for r in resources if r["action_id"] == action["id"]]
    return actions


def _signatures(session: Session, plan_id: int) -> list[dict[str, Any]]:
    return _dicts(
        session,
        select(SIGNATURE.c.event, SIGNATURE.c.step, SIGNATURE.c.role, SIGNATURE.c.epoch,
               PERSON.c.key.label("person"), PERSON.c.name, SIGNATURE.c.signed_at,
               SIGNATURE.c.comment)
        .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
        .where(SIGNATURE.c.plan_id == plan_id).order_by(SIGNATURE.c.id),
    )  # fmt: skip


def _chains(session: Session, plan: PlanSnapshot, definition: CompiledDefinition) -> list[Any]:
    """Where each approval chain the plan waits for stands: step, steps, who is missing."""
    chains = []
    for spec in definition.transitions_from(plan.state):
        if spec.approval:
            status = chain_status(session, plan, definition, spec)
            steps = len(definition.spec.approval_chains[spec.approval].steps)
            chains.append({"transition": spec, "step": status.step, "steps": steps,
                           "waiting_for": list(status.waiting_for)})  # fmt: skip
    return chains


def plan_view(session: Session, *, viewer: Viewer, plan_id: int, now: datetime) -> PlanView:
    """The plan as `viewer` may see it (PlanNotFound when it is not theirs to see)."""
    held = access.check_plan(session, viewer, plan_id, "read")
    snapshot = load_plan(session, plan_id)
    definition = catalog.by_hash(session, snapshot.definition_hash)
    today = now.date()
    milestones = _milestones(session, plan_id, today)
    evaluation = session.execute(select(EVALUATION).where(EVALUATION.c.plan_id == plan_id)).first()
    return PlanView(
        plan=dict(session.execute(select(PLAN).where(PLAN.c.id == plan_id)).one()._mapping),
        snapshot=snapshot,
        definition=definition,
        relations=held,
        people=_dicts(
            session,
            select(PLAN_ROLE.c.role, PERSON.c.key, PERSON.c.name)
            .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
            .where(PLAN_ROLE.c.plan_id == plan_id)
            .order_by(PLAN_ROLE.c.id),
        ),
        evidence=_dicts(session, select(EVIDENCE).where(EVIDENCE.c.plan_id == plan_id)),
        problems=_dicts(session, select(PROBLEM).where(PROBLEM.c.plan_id == plan_id)),
        goals=_goals(session, plan_id, milestones),
        milestones=milestones,
        actions=_actions(session, plan_id),
        signatures=_signatures(session, plan_id),
        chains=_chains(session, snapshot, definition),
        adjustments=_dicts(
            session,
            select(ADJUSTMENT).where(ADJUSTMENT.c.plan_id == plan_id).order_by(ADJUSTMENT.c.id),
        ),
        evaluation=dict(evaluation._mapping) if evaluation else None,
        history=audit.history(session, plan_id),
        verified=audit.verify(session, plan_id),
        may=permitted(
            session, viewer=viewer, plan=snapshot, definition=definition, relations=held, now=now
        ),
    )
