"""Read models for the front door: plan lists and the whole picture of one plan."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session

from models.tables import (
    ACTION,
    ADJUSTMENT,
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
from states import catalog
from states.context import PlanSnapshot
from states.engine import chain_status, load_plan


def _dicts(session: Session, query: Select[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(query)]


def list_plans(session: Session, state: str | None = None) -> list[dict[str, Any]]:
    """Every plan (or those in `state`), newest first, with its employee."""
    employee = (
        select(PERSON.c.key)
        .join(PLAN_ROLE, PLAN_ROLE.c.person_id == PERSON.c.id)
        .where(PLAN_ROLE.c.plan_id == PLAN.c.id, PLAN_ROLE.c.role == "employee")
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        PLAN.c.id, PLAN.c.title, employee.label("employee"), PLAN.c.state,
        PLAN.c.definition_name.label("definition"), PLAN.c.definition_version, PLAN.c.version,
        PLAN.c.period_start, PLAN.c.period_end, PLAN.c.updated_at,
    ).order_by(PLAN.c.id.desc())  # fmt: skip
    if state:
        query = query.where(PLAN.c.state == state)
    return _dicts(session, query)


def _people(session: Session, plan_id: int) -> list[dict[str, Any]]:
    return _dicts(
        session,
        select(PLAN_ROLE.c.role, PERSON.c.key, PERSON.c.name, PERSON.c.email, PERSON.c.locale)
        .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
        .where(PLAN_ROLE.c.plan_id == plan_id)
        .order_by(PLAN_ROLE.c.id),
    )


def _goals(session: Session, plan_id: int) -> list[dict[str, Any]]:
    goals = _dicts(
        session, select(GOAL).where(GOAL.c.plan_id == plan_id).order_by(GOAL.c.priority, GOAL.c.id)
    )
    for goal in goals:
        goal["milestones"] = _dicts(
            session,
            select(MILESTONE.c.key, MILESTONE.c.title, MILESTONE.c.due, MILESTONE.c.criterion,
                   MILESTONE.c.status, MILESTONE.c.done_at)
            .where(MILESTONE.c.goal_id == goal["id"]).order_by(MILESTONE.c.due),
        )  # fmt: skip
        goal["actual"] = session.execute(
            select(MEASUREMENT.c.value).where(MEASUREMENT.c.goal_id == goal["id"])
            .order_by(MEASUREMENT.c.measured_on.desc(), MEASUREMENT.c.id.desc()).limit(1)
        ).scalar()  # fmt: skip
    return goals


def _signatures(session: Session, plan_id: int) -> list[dict[str, Any]]:
    return _dicts(
        session,
        select(SIGNATURE.c.event, SIGNATURE.c.step, SIGNATURE.c.role, PERSON.c.key.label("person"),
               SIGNATURE.c.signed_at, SIGNATURE.c.comment, SIGNATURE.c.content_digest)
        .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
        .where(SIGNATURE.c.plan_id == plan_id).order_by(SIGNATURE.c.id),
    )  # fmt: skip


def _next_events(session: Session, plan: PlanSnapshot) -> list[dict[str, Any]]:
    definition = catalog.by_hash(session, plan.definition_hash)
    events = []
    for transition in definition.transitions_from(plan.state):
        entry: dict[str, Any] = {
            "event": transition.trigger,
            "to": transition.dest,
            "roles": list(transition.roles),
            "approval": transition.approval,
        }
        if transition.approval:
            entry["waiting_for"] = list(
                chain_status(session, plan, definition, transition).waiting_for
            )
        events.append(entry)
    return events


def plan_detail(session: Session, plan_id: int) -> dict[str, Any]:
    """The whole picture of one plan, as plain data (for `plan show` and the API)."""
    plan = load_plan(session, plan_id)
    row = session.execute(select(PLAN).where(PLAN.c.id == plan_id)).one()
    evaluation = session.execute(select(EVALUATION).where(EVALUATION.c.plan_id == plan_id)).first()
    return {
        "plan": dict(row._mapping),
        "people": _people(session, plan_id),
        "evidence": _dicts(session, select(EVIDENCE).where(EVIDENCE.c.plan_id == plan_id)),
        "problems": _dicts(session, select(PROBLEM).where(PROBLEM.c.plan_id == plan_id)),
        "goals": _goals(session, plan_id),
        "actions": _dicts(session, select(ACTION).where(ACTION.c.plan_id == plan_id)),
        "signatures": _signatures(session, plan_id),
        "adjustments": _dicts(session, select(ADJUSTMENT).where(ADJUSTMENT.c.plan_id == plan_id)),
        "progress_reports": session.execute(
            select(func.count())
            .select_from(PROGRESS_REPORT)
            .where(PROGRESS_REPORT.c.plan_id == plan_id)
        ).scalar_one(),
        "evaluation": dict(evaluation._mapping) if evaluation else None,
        "results": _dicts(
            session, select(GOAL_RESULT).join(EVALUATION).where(EVALUATION.c.plan_id == plan_id)
        )
        if evaluation
        else [],
        "next_events": _next_events(session, plan),
    }
