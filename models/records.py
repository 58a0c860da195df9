"""What happens while a plan runs: signatures, reports, coaching, measurements,
adjustments and the evaluation (steps 4-6)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.plans import PlanPart
from models.types import UTCDateTime


class Signature(PlanPart, table=True):
    """A signature on one approval chain round, bound to the plan content it signed."""

    # One signature per person per round *and content*: a change to the plan
    # voids earlier signatures, and their signers must be able to sign again.
    __table_args__ = (UniqueConstraint("plan_id", "event", "epoch", "person_id", "content_digest"),)

    person_id: int = Field(foreign_key="person.id")
    role: str
    event: str
    epoch: int
    step: int
    signed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    comment: str = ""
    content_digest: str


class ProgressReport(PlanPart, table=True):
    """The employee's periodic progress report."""

    __tablename__ = "progress_report"

    author_id: int = Field(foreign_key="person.id")
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    summary: str
    blockers: str = ""


class CoachingSession(PlanPart, table=True):
    """A coaching talk between manager and employee, with the guidance given."""

    __tablename__ = "coaching_session"

    coach_id: int = Field(foreign_key="person.id")
    held_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    minutes: int = 15
    notes: str = ""


class Measurement(PlanPart, table=True):
    """A measured value of a goal's metric, with where it came from."""

    goal_id: int = Field(foreign_key="goal.id", index=True)
    value: float
    measured_on: date
    recorded_by_id: int = Field(foreign_key="person.id")
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    source: str = ""
    note: str = ""


class Adjustment(PlanPart, table=True):
    """A change to a milestone or action while the plan runs; goals never change."""

    target_kind: str  # milestone | action
    target_key: str
    before: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    after: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    reason: str
    proposed_by_id: int = Field(foreign_key="person.id")
    proposed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = "proposed"  # proposed | confirmed
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Evaluation(SQLModel, table=True):
    """The end of a plan: outcome, feedback and the lessons the organisation keeps."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", unique=True)
    outcome: str  # successful | extended | not_met
    feedback: str = ""
    lessons: str = ""
    evaluated_by_id: int = Field(foreign_key="person.id")
    evaluated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class GoalResult(SQLModel, table=True):
    """Per goal at evaluation: the actual value against baseline and target."""

    __tablename__ = "goal_result"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    goal_id: int = Field(foreign_key="goal.id")
    actual: float
    attainment: float  # share of the planned improvement reached, 1.0 = target
    met: bool
    measured_on: date | None = None
