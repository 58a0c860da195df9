"""The digest of what a plan says: the content people agree to and sign.

Progress (milestones done, measurements) is not part of it; the diagnosis,
goals, milestones, actions, roles and the period are. A signature carries the
digest it was given for, so a change after signing voids the signature.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session

from models.tables import (
    ACTION,
    ACTION_COLLABORATOR,
    ACTION_RESOURCE,
    EVIDENCE,
    GOAL,
    MILESTONE,
    PERSON,
    PLAN,
    PLAN_ROLE,
    PROBLEM,
)


def _rows(session: Session, query: Select[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(query)]


def _by_action(session: Session, query: Select[Any]) -> dict[int, list[str]]:
    """(action id, value) rows as each action's values."""
    found: dict[int, list[str]] = {}
    for action_id, value in session.execute(query):
        found.setdefault(action_id, []).append(value)
    return found


def _actions(session: Session, plan_id: int) -> list[dict[str, Any]]:
    supporter = PERSON.alias("supporter")
    actions = _rows(
        session,
        select(
            ACTION.c.id,
            ACTION.c.key,
            GOAL.c.key.label("goal"),
            ACTION.c.title,
            PERSON.c.key.label("executor"),
            supporter.c.key.label("supporter"),
            ACTION.c.starts,
            ACTION.c.ends,
            ACTION.c.recurrence,
        )
        .join(GOAL, GOAL.c.id == ACTION.c.goal_id)
        .join(PERSON, PERSON.c.id == ACTION.c.executor_id)
        .outerjoin(supporter, supporter.c.id == ACTION.c.supporter_id)
        .where(ACTION.c.plan_id == plan_id)
        .order_by(ACTION.c.key),
    )
    # Every action's collaborators and resources in one statement each, not two per action.
    collaborators = _by_action(
        session,
        select(ACTION_COLLABORATOR.c.action_id, PERSON.c.key)
        .join(PERSON, ACTION_COLLABORATOR.c.person_id == PERSON.c.id)
        .join(ACTION, ACTION.c.id == ACTION_COLLABORATOR.c.action_id)
        .where(ACTION.c.plan_id == plan_id),
    )
    resources = _by_action(
        session,
        select(ACTION_RESOURCE.c.action_id, ACTION_RESOURCE.c.name)
        .join(ACTION, ACTION.c.id == ACTION_RESOURCE.c.action_id)
        .where(ACTION.c.plan_id == plan_id),
    )
    for action in actions:
        action_id = action.pop("id")
        action["collaborators"] = sorted(collaborators.get(action_id, []))
        action["resources"] = sorted(resources.get(action_id, []))
    return actions


def _goals(session: Session, plan_id: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        select(
            GOAL.c.key,
            GOAL.c.title,
            GOAL.c.metric,
            GOAL.c.unit,
            GOAL.c.baseline,
            GOAL.c.target,
            GOAL.c.direction,
            GOAL.c.deadline,
            GOAL.c.priority,
            GOAL.c.source,
        )
        .where(GOAL.c.plan_id == plan_id)
        .order_by(GOAL.c.key),
    )


def _milestones(session: Session, plan_id: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        select(
            MILESTONE.c.key,
            GOAL.c.key.label("goal"),
            MILESTONE.c.title,
            MILESTONE.c.due,
            MILESTONE.c.criterion,
        )
        .join(GOAL, GOAL.c.id == MILESTONE.c.goal_id)
        .where(MILESTONE.c.plan_id == plan_id)
        .order_by(MILESTONE.c.key),
    )


def _roles(session: Session, plan_id: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        select(PLAN_ROLE.c.role, PERSON.c.key.label("person"))
        .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
        .where(PLAN_ROLE.c.plan_id == plan_id)
        .order_by(PLAN_ROLE.c.role, PERSON.c.key),
    )


def _diagnosis(session: Session, plan_id: int) -> dict[str, list[dict[str, Any]]]:
    evidence = select(EVIDENCE.c.kind, EVIDENCE.c.summary, EVIDENCE.c.source)
    problems = select(
        PROBLEM.c.key,
        PROBLEM.c.description,
        PROBLEM.c.metric,
        PROBLEM.c.observed,
        PROBLEM.c.expected,
        PROBLEM.c.cause,
    )
    return {
        "evidence": _rows(
            session, evidence.where(EVIDENCE.c.plan_id == plan_id).order_by(EVIDENCE.c.id)
        ),
        "problems": _rows(
            session, problems.where(PROBLEM.c.plan_id == plan_id).order_by(PROBLEM.c.key)
        ),
    }


def plan_content(session: Session, plan_id: int) -> dict[str, Any]:
    """The agreed content of a plan as plain data, in a stable order."""
    plan = session.execute(
        select(PLAN.c.title, PLAN.c.reason, PLAN.c.period_start, PLAN.c.period_end).where(
            PLAN.c.id == plan_id
        )
    ).one()
    return {
        "title": plan.title,
        "reason": plan.reason,
        "diagnosis": _diagnosis(session, plan_id),
        "period": [plan.period_start, plan.period_end],
        "roles": _roles(session, plan_id),
        "goals": _goals(session, plan_id),
        "milestones": _milestones(session, plan_id),
        "actions": _actions(session, plan_id),
    }


def canonical_content(session: Session, plan_id: int) -> str:
    """The agreed content as the one text its digest is taken of (and a signed copy keeps)."""
    return json.dumps(
        plan_content(session, plan_id), sort_keys=True, ensure_ascii=False, default=str
    )


def content_digest(canonical: str) -> str:
    """The SHA-256 of a canonical content text: what a signature binds."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_digest(session: Session, plan_id: int) -> str:
    return content_digest(canonical_content(session, plan_id))
