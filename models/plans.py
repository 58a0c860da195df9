"""The plan and its content: diagnosis, goals, milestones and actions (steps 1-3)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime

GENESIS_HASH = "0" * 64


class PlanPart(SQLModel):
    """What every part of a plan, and every record of its life, has: an id of its own,
    and the plan it belongs to (the tables themselves are its subclasses)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)


class Plan(SQLModel, table=True):
    """One performance improvement plan, bound to one definition version for life.

    `version` is bumped by every change to the plan or its records, so that a
    writer holding a stale copy fails with a conflict instead of overwriting.
    `epoch` counts state changes; signatures belong to the epoch they were
    given in. `audit_seq`/`audit_head` are the tip of the plan's hash chain.
    """

    id: int | None = Field(default=None, primary_key=True)
    title: str
    reason: str = "kpi_below_target"
    definition_name: str = Field(index=True)
    definition_version: int
    definition_hash: str
    state: str = Field(index=True)
    version: int = 1
    epoch: int = 0
    period_start: date
    period_end: date
    report_every: str = "P1W"
    coaching_every: str = "P1W"
    content_digest: str = ""
    audit_seq: int = 0
    audit_head: str = GENESIS_HASH
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Evidence(PlanPart, table=True):
    """A piece of diagnosis evidence: KPI attainment, 360° feedback, output data, interview."""

    kind: str
    summary: str
    source: str = ""


class Problem(PlanPart, table=True):
    """A specific, measurable problem found in diagnosis, with its root cause."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    key: str
    description: str
    metric: str = ""
    observed: str = ""
    expected: str = ""
    cause: str = ""


class Goal(PlanPart, table=True):
    """A SMART goal: quantified, directed, dated and prioritised."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    key: str
    title: str
    metric: str
    unit: str
    baseline: float | None = None
    target: float
    direction: str  # "raise" or "lower"
    deadline: date
    priority: int = 1
    source: str = ""
    problem_id: int | None = Field(default=None, foreign_key="problem.id")


class Milestone(PlanPart, table=True):
    """A dated checkpoint towards a goal, with its acceptance criterion."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    goal_id: int = Field(foreign_key="goal.id", index=True)
    key: str
    title: str
    due: date = Field(index=True)
    criterion: str = ""
    status: str = "pending"  # pending | done
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Action(PlanPart, table=True):
    """Something done for a goal: who executes, who supports, when (once or recurring)."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    goal_id: int = Field(foreign_key="goal.id")
    key: str
    title: str
    executor_id: int = Field(foreign_key="person.id")
    supporter_id: int | None = Field(default=None, foreign_key="person.id")
    starts: date | None = None
    ends: date | None = None
    recurrence: str = ""  # RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=WE


class ActionCollaborator(SQLModel, table=True):
    """A colleague, often from another department, who collaborates on an action."""

    __tablename__ = "action_collaborator"

    action_id: int = Field(foreign_key="action.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)


class ActionResource(SQLModel, table=True):
    """A resource an action needs (budget, mentor time, tool access) and its request."""

    __tablename__ = "action_resource"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    name: str
    amount: str = ""
    status: str = "requested"  # requested | approved | denied
