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

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlmodel import Session

from models.tables import (
    ACTION,
    ACTION_COLLABORATOR,
    ACTION_RESOURCE,
    ADJUSTMENT,
    AUDIT,
    EVALUATION,
    EVIDENCE,
    GOAL,
    GOAL_RESULT,
    MEASUREMENT,
    MILESTONE,
    PERSON,
    PLAN,
    PLAN_ROLE,
    PROBLEM,
    PROGRESS_REPORT,
    SIGNATURE,
)
from people import access
from people.access import Viewer
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.engine.actions import attainment, target_met
from states.engine.chains import chain_status
from states.engine.context import PlanSnapshot
from states.errors import PlanNotFound
from views.permitted import Permitted, permitted

# Every statement is built once and run with the plan's id: building one costs more
# than SQLite takes to run it, and the plan page and `GET /api/plans/{id}` run them all.
_ID = bindparam("plan_id", type_=Integer)
_EXECUTOR, _SUPPORTER = PERSON.alias("executor"), PERSON.alias("supporter")
_READ: dict[str, Select[Any]] = {
    "plan": select(PLAN).where(PLAN.c.id == _ID),
    "people": select(PLAN_ROLE.c.role, PERSON.c.key, PERSON.c.name, PERSON.c.email, PERSON.c.locale)
    .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
    .where(PLAN_ROLE.c.plan_id == _ID)
    .order_by(PLAN_ROLE.c.id),
    "evidence": select(EVIDENCE).where(EVIDENCE.c.plan_id == _ID).order_by(EVIDENCE.c.id),
    "problems": select(PROBLEM).where(PROBLEM.c.plan_id == _ID).order_by(PROBLEM.c.id),
    "goals": select(GOAL).where(GOAL.c.plan_id == _ID).order_by(GOAL.c.priority, GOAL.c.id),
    "measurements": select(MEASUREMENT.c.goal_id, MEASUREMENT.c.value, MEASUREMENT.c.measured_on)
    .where(MEASUREMENT.c.plan_id == _ID)
    .order_by(MEASUREMENT.c.goal_id, MEASUREMENT.c.measured_on.desc(), MEASUREMENT.c.id.desc()),
    "milestones": select(
        MILESTONE.c.id,
        MILESTONE.c.goal_id,
        MILESTONE.c.key,
        MILESTONE.c.title,
        MILESTONE.c.due,
        MILESTONE.c.criterion,
        MILESTONE.c.status,
        MILESTONE.c.done_at,
        GOAL.c.key.label("goal"),
    )
    .join(GOAL, GOAL.c.id == MILESTONE.c.goal_id)
    .where(MILESTONE.c.plan_id == _ID)
    .order_by(MILESTONE.c.due, MILESTONE.c.id),
    "actions": select(
        ACTION,
        GOAL.c.key.label("goal"),
        _EXECUTOR.c.name.label("executor"),
        _SUPPORTER.c.name.label("supporter"),
    )
    .join(GOAL, GOAL.c.id == ACTION.c.goal_id)
    .join(_EXECUTOR, _EXECUTOR.c.id == ACTION.c.executor_id)
    .outerjoin(_SUPPORTER, _SUPPORTER.c.id == ACTION.c.supporter_id)
    .where(ACTION.c.plan_id == _ID)
    .order_by(ACTION.c.id),
    "signatures": select(
        SIGNATURE.c.event,
        SIGNATURE.c.step,
        SIGNATURE.c.role,
        SIGNATURE.c.epoch,
        PERSON.c.key.label("person"),
        PERSON.c.name,
        SIGNATURE.c.signed_at,
        SIGNATURE.c.comment,
        SIGNATURE.c.content_digest,
    )
    .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
    .where(SIGNATURE.c.plan_id == _ID)
    .order_by(SIGNATURE.c.id),
    "adjustments": select(ADJUSTMENT).where(ADJUSTMENT.c.plan_id == _ID).order_by(ADJUSTMENT.c.id),
    "evaluation": select(EVALUATION).where(EVALUATION.c.plan_id == _ID),
    "results": select(GOAL_RESULT)
    .join(EVALUATION)
    .where(EVALUATION.c.plan_id == _ID)
    .order_by(GOAL_RESULT.c.id),
    "progress_reports": select(func.count())
    .select_from(PROGRESS_REPORT)
    .where(PROGRESS_REPORT.c.plan_id == _ID),
}
# What only the page shows: who collaborates on each action, what it needs, the history.
_COLLABORATORS = (
    select(ACTION_COLLABORATOR.c.action_id, PERSON.c.name)
    .join(PERSON, PERSON.c.id == ACTION_COLLABORATOR.c.person_id)
    .join(ACTION, ACTION.c.id == ACTION_COLLABORATOR.c.action_id)
    .where(ACTION.c.plan_id == _ID)
)
_RESOURCES = (
    select(ACTION_RESOURCE)
    .join(ACTION, ACTION.c.id == ACTION_RESOURCE.c.action_id)
    .where(ACTION.c.plan_id == _ID)
    .order_by(ACTION_RESOURCE.c.id)
)
_HISTORY = select(AUDIT).where(AUDIT.c.plan_id == _ID).order_by(AUDIT.c.seq)


@dataclass(frozen=True)
class PlanRecord:
    """One plan's rows, read in a fixed number of statements whatever its size: what the
    API's `GET /api/plans/{id}` and the plan page both show."""

    plan: dict[str, Any]
    snapshot: PlanSnapshot
    people: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    # Each goal with its milestones and latest measurement (actual, measured_on,
    # attainment, met; None before the first).
    goals: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    signatures: list[dict[str, Any]]
    adjustments: list[dict[str, Any]]
    evaluation: dict[str, Any] | None
    results: list[dict[str, Any]]
    progress_reports: int


def _dicts(session: Session, name: str, plan_id: int) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(_READ[name], {"plan_id": plan_id})]


def milestone_status(due: date, done: bool, today: date) -> str:
    """done; late (past due, not done, judged on `today`); or due."""
    if done:
        return "done"
    return "late" if due < today else "due"


def _latest_measurements(session: Session, plan_id: int) -> dict[int, dict[str, Any]]:
    latest: dict[int, dict[str, Any]] = {}
    for row in _dicts(session, "measurements", plan_id):
        latest.setdefault(row["goal_id"], row)
    return latest


def _measured(goal: dict[str, Any], measured: dict[str, Any] | None) -> None:
    goal["actual"] = measured["value"] if measured else None
    goal["measured_on"] = measured["measured_on"] if measured else None
    goal["attainment"] = None
    goal["met"] = None
    if measured:
        goal["attainment"] = attainment(
            goal["baseline"], goal["target"], measured["value"], goal["direction"]
        )
        goal["met"] = target_met(goal["target"], measured["value"], goal["direction"])


def _goals(
    session: Session, plan_id: int, milestones: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    goals = _dicts(session, "goals", plan_id)
    latest = _latest_measurements(session, plan_id)
    for goal in goals:
        _measured(goal, latest.get(goal["id"]))
        goal["milestones"] = [m for m in milestones if m["goal_id"] == goal["id"]]
    return goals


def _judge(milestones: list[dict[str, Any]], today: date) -> None:
    """Each milestone on the timeline of `today`: done, due or late (and by how much)."""
    for row in milestones:
        row["timeline"] = milestone_status(row["due"], row["status"] == "done", today)
        row["days_late"] = (today - row["due"]).days if row["timeline"] == "late" else 0


def plan_record(session: Session, plan_id: int) -> PlanRecord:
    """The plan's rows (PlanNotFound when there is no such plan)."""
    found = session.execute(_READ["plan"], {"plan_id": plan_id}).first()
    if found is None:
        raise PlanNotFound(plan_id)
    milestones = _dicts(session, "milestones", plan_id)
    evaluation = _dicts(session, "evaluation", plan_id)
    return PlanRecord(
        plan=dict(found._mapping),
        snapshot=PlanSnapshot.from_row(found),
        people=_dicts(session, "people", plan_id),
        evidence=_dicts(session, "evidence", plan_id),
        problems=_dicts(session, "problems", plan_id),
        goals=_goals(session, plan_id, milestones),
        milestones=milestones,
        actions=_dicts(session, "actions", plan_id),
        signatures=_dicts(session, "signatures", plan_id),
        adjustments=_dicts(session, "adjustments", plan_id),
        evaluation=evaluation[0] if evaluation else None,
        results=_dicts(session, "results", plan_id) if evaluation else [],
        progress_reports=int(
            session.execute(_READ["progress_reports"], {"plan_id": plan_id}).scalar_one()
        ),
    )


@dataclass(frozen=True)
class PlanView(PlanRecord):
    """The plan page's read model: the plan's rows, and what the page adds for a viewer
    (actions with their collaborators and resources, by start; the verified history)."""

    definition: CompiledDefinition
    relations: set[str]
    chains: list[dict[str, Any]]
    history: list[Any]
    verified: audit.VerifyReport
    may: Permitted


def _by_start(action: dict[str, Any]) -> tuple[bool, date, int]:
    return action["starts"] is not None, action["starts"] or date.min, action["id"]


def _actions(session: Session, record: PlanRecord) -> list[dict[str, Any]]:
    """The actions by start (none first, as SQLite orders them), with who collaborates
    and what each needs."""
    plan_id = record.snapshot.id
    collaborators = session.execute(_COLLABORATORS, {"plan_id": plan_id}).all()
    resources = [dict(r._mapping) for r in session.execute(_RESOURCES, {"plan_id": plan_id})]
    actions = sorted((dict(a) for a in record.actions), key=_by_start)
    for action in actions:
        action["collaborators"] = [c.name for c in collaborators if c.action_id == action["id"]]
        action["resources"] = [r for r in resources if r["action_id"] == action["id"]]
    return actions


def _chains(session: Session, plan: PlanSnapshot, definition: CompiledDefinition) -> list[Any]:
    """Where each approval chain the plan waits for stands: step, steps, who is missing."""
    chains = []
    for spec in definition.transitions_from(plan.state):
        if spec.approval:
            status = chain_status(session, plan, definition, spec)
            steps = len(definition.spec.approval_chains[spec.approval].steps)
            chains.append(
                {
                    "transition": spec,
                    "step": status.step,
                    "steps": steps,
                    "waiting_for": list(status.waiting_for),
                }
            )
    return chains


def plan_view(session: Session, *, viewer: Viewer, plan_id: int, now: datetime) -> PlanView:
    """The plan as `viewer` may see it (PlanNotFound when it is not theirs to see). The
    history is verified on every view, from the very records the page shows: an
    auditor never sees "verified" for a chain that a changed record has broken."""
    held = access.check_plan(session, viewer, plan_id, "read")
    record = plan_record(session, plan_id)
    _judge(record.milestones, now.date())  # the goals' milestones are the same rows
    snapshot = record.snapshot
    definition = catalog.by_hash(session, snapshot.definition_hash)
    history = list(session.execute(_HISTORY, {"plan_id": plan_id}))
    return PlanView(
        **{**vars(record), "actions": _actions(session, record)},
        definition=definition,
        relations=held,
        chains=_chains(session, snapshot, definition),
        history=history,
        verified=audit.verify_chain(plan_id, history, (snapshot.audit_seq, snapshot.audit_head)),
        may=permitted(
            session, viewer=viewer, plan=snapshot, definition=definition, relations=held, now=now
        ),
    )
