"""One plan's record: every row of the plan, typed and frozen, read in a fixed number of
statements whatever its size (one per kind of row, never one per goal or milestone).

Every reader of a plan is built on it: `plan show` and the API's plan
(`views.detail`), the plan page (`views.page`), the evaluation report's facts
(`views.report`), and the messages the clockwork sends about a plan. The history (the
audit records) is read apart, by `plan_history`, for the readers that show it.

Rows read as they are stored are NamedTuples (cheap to build, immutable, typed); what
is composed from several rows (a goal with its milestones and measurements, an action
with the people and resources it names) is a frozen dataclass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, select
from sqlmodel import Session

from models.tables import (
    ACTION,
    ACTION_COLLABORATOR,
    ACTION_RESOURCE,
    ADJUSTMENT,
    AUDIT,
    COACHING_SESSION,
    EVALUATION,
    EVIDENCE,
    GOAL,
    GOAL_RESULT,
    MEASUREMENT,
    MILESTONE,
    PERSON,
    PLAN,
    PROBLEM,
    PROGRESS_REPORT,
    SIGNATURE,
)
from people.roles import Holder, PlanPeople, plan_people
from states import audit
from states.engine.actions import attainment, target_met
from states.engine.context import PlanSnapshot
from states.errors import PlanNotFound


class PlanRow(NamedTuple):
    """The plan's own row (the columns of `plan`, in order)."""

    id: int
    title: str
    reason: str
    definition_name: str
    definition_version: int
    definition_hash: str
    state: str
    version: int
    epoch: int
    period_start: date
    period_end: date
    report_every: str
    coaching_every: str
    content_digest: str
    audit_seq: int
    audit_head: str
    created_at: datetime
    updated_at: datetime


class EvidenceRow(NamedTuple):
    id: int
    plan_id: int
    kind: str
    summary: str
    source: str


class ProblemRow(NamedTuple):
    id: int
    plan_id: int
    key: str
    description: str
    metric: str
    observed: str
    expected: str
    cause: str


class Measurement(NamedTuple):
    """A measured value of a goal's metric; `recorded_by` is the person's key."""

    id: int
    goal_id: int
    value: float
    measured_on: date
    source: str
    note: str
    recorded_by: str


class Milestone(NamedTuple):
    """A milestone with its goal, and where it stands on `today` (the day the record was
    read for): `timeline` is done, late (past due, not done) or due."""

    id: int
    plan_id: int
    goal_id: int
    key: str
    title: str
    due: date
    criterion: str
    status: str
    done_at: datetime | None
    goal: str  # the goal's key
    goal_title: str
    timeline: str
    days_late: int


@dataclass(frozen=True, slots=True)
class Goal:
    """A SMART goal (the columns of `goal`), the key of the problem it answers, its
    milestones (by due date), its measurements (oldest first), and the latest of them
    against the target (None before the first)."""

    id: int
    plan_id: int
    key: str
    title: str
    metric: str
    unit: str
    baseline: float | None
    target: float
    direction: str
    deadline: date
    priority: int
    source: str
    problem_id: int | None
    problem: str
    milestones: tuple[Milestone, ...]
    measurements: tuple[Measurement, ...]

    @property
    def latest(self) -> Measurement | None:
        return self.measurements[-1] if self.measurements else None

    @property
    def actual(self) -> float | None:
        return self.latest.value if self.latest else None

    @property
    def measured_on(self) -> date | None:
        return self.latest.measured_on if self.latest else None

    @property
    def attainment(self) -> float | None:
        latest = self.latest
        if latest is None:
            return None
        return attainment(self.baseline, self.target, latest.value, self.direction)

    @property
    def met(self) -> bool | None:
        latest = self.latest
        return None if latest is None else target_met(self.target, latest.value, self.direction)


class Named(NamedTuple):
    """A person as a record names them: their key and their name."""

    key: str
    name: str


class Resource(NamedTuple):
    id: int
    action_id: int
    name: str
    amount: str
    status: str


@dataclass(frozen=True, slots=True)
class Action:
    """An action (the columns of `action`), its goal's key, who executes and supports
    it, who collaborates (by key), and the resources it needs."""

    id: int
    plan_id: int
    goal_id: int
    key: str
    title: str
    executor_id: int
    supporter_id: int | None
    starts: date | None
    ends: date | None
    recurrence: str
    goal: str
    executor: Named
    supporter: Named | None
    collaborators: tuple[Named, ...]
    resources: tuple[Resource, ...]


class SignatureRow(NamedTuple):
    """A signature; `person` is the signer's key."""

    id: int
    event: str
    step: int
    role: str
    epoch: int
    person: str
    name: str
    signed_at: datetime
    comment: str
    content_digest: str


class AdjustmentRow(NamedTuple):
    """An adjustment (the columns of `adjustment`) and who proposed it."""

    id: int
    plan_id: int
    target_kind: str
    target_key: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    proposed_by_id: int
    proposed_at: datetime
    status: str
    confirmed_at: datetime | None
    proposed_by: str
    proposed_by_name: str


class ProgressRow(NamedTuple):
    author: str
    submitted_at: datetime
    summary: str
    blockers: str


class CoachingRow(NamedTuple):
    coach: str
    held_at: datetime
    minutes: int
    notes: str


class EvaluationRow(NamedTuple):
    """The evaluation (the columns of `evaluation`) and the evaluator's key."""

    id: int
    plan_id: int
    outcome: str
    feedback: str
    lessons: str
    evaluated_by_id: int
    evaluated_at: datetime
    evaluated_by: str


class GoalResultRow(NamedTuple):
    id: int
    evaluation_id: int
    goal_id: int
    actual: float
    attainment: float
    met: bool
    measured_on: date | None


# One record of the plan's hash-chained history, as stored.
AuditLine = audit.Record


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """Everything stored about one plan but its history."""

    plan: PlanRow
    people: PlanPeople
    evidence: tuple[EvidenceRow, ...]
    problems: tuple[ProblemRow, ...]
    goals: tuple[Goal, ...]
    milestones: tuple[Milestone, ...]
    actions: tuple[Action, ...]
    signatures: tuple[SignatureRow, ...]
    adjustments: tuple[AdjustmentRow, ...]
    progress_reports: tuple[ProgressRow, ...]
    coaching_sessions: tuple[CoachingRow, ...]
    evaluation: EvaluationRow | None
    results: tuple[GoalResultRow, ...]
    today: date

    @property
    def snapshot(self) -> PlanSnapshot:
        """The plan as the rules read it (state, version, epoch, chain tip...)."""
        return PlanSnapshot.from_row(self.plan)

    def goal_title(self, key: str) -> str:
        return next((goal.title for goal in self.goals if goal.key == key), key)

    def milestone_title(self, key: str) -> str:
        return next((m.title for m in self.milestones if m.key == key), key)


class ShowsRecord:
    """What is built on a plan's record (its detail, its page) shows the record's parts
    as its own attributes, for the templates and the API's models that read them by
    name; `people` are those the plan names (the department head is in `record.people`)."""

    __slots__ = ()
    record: PlanRecord

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "record":  # not built yet (copies, pickles)
            raise AttributeError(name)
        return getattr(self.record, name)

    @property
    def people(self) -> tuple[Holder, ...]:
        return self.record.people.named


# Every statement is built once and run with the plan's id: building one costs more
# than SQLite takes to run it, and the plan page and `GET /api/plans/{id}` run them all.
_ID = bindparam("plan_id", type_=Integer)
_RECORDER, _EXECUTOR, _SUPPORTER = PERSON.alias("recorder"), PERSON.alias("e"), PERSON.alias("s")
_READ: dict[str, Select[Any]] = {
    "plan": select(PLAN).where(PLAN.c.id == _ID),
    "evidence": select(EVIDENCE).where(EVIDENCE.c.plan_id == _ID).order_by(EVIDENCE.c.id),
    "problems": select(PROBLEM).where(PROBLEM.c.plan_id == _ID).order_by(PROBLEM.c.id),
    "goals": select(GOAL, PROBLEM.c.key)
    .outerjoin(PROBLEM, PROBLEM.c.id == GOAL.c.problem_id)
    .where(GOAL.c.plan_id == _ID)
    .order_by(GOAL.c.priority, GOAL.c.id),
    "measurements": select(
        *MEASUREMENT.c["id", "goal_id", "value", "measured_on", "source", "note"], _RECORDER.c.key
    )
    .join(_RECORDER, _RECORDER.c.id == MEASUREMENT.c.recorded_by_id)
    .where(MEASUREMENT.c.plan_id == _ID)
    .order_by(MEASUREMENT.c.measured_on, MEASUREMENT.c.id),
    "milestones": select(MILESTONE, GOAL.c.key, GOAL.c.title)
    .join(GOAL, GOAL.c.id == MILESTONE.c.goal_id)
    .where(MILESTONE.c.plan_id == _ID)
    .order_by(MILESTONE.c.due, MILESTONE.c.id),
    "actions": select(ACTION, GOAL.c.key, *_EXECUTOR.c["key", "name"], *_SUPPORTER.c["key", "name"])
    .join(GOAL, GOAL.c.id == ACTION.c.goal_id)
    .join(_EXECUTOR, _EXECUTOR.c.id == ACTION.c.executor_id)
    .outerjoin(_SUPPORTER, _SUPPORTER.c.id == ACTION.c.supporter_id)
    .where(ACTION.c.plan_id == _ID)
    .order_by(ACTION.c.id),
    "collaborators": select(ACTION_COLLABORATOR.c.action_id, *PERSON.c["key", "name"])
    .join(PERSON, PERSON.c.id == ACTION_COLLABORATOR.c.person_id)
    .join(ACTION, ACTION.c.id == ACTION_COLLABORATOR.c.action_id)
    .where(ACTION.c.plan_id == _ID)
    .order_by(ACTION_COLLABORATOR.c.action_id, PERSON.c.key),
    "resources": select(ACTION_RESOURCE)
    .join(ACTION, ACTION.c.id == ACTION_RESOURCE.c.action_id)
    .where(ACTION.c.plan_id == _ID)
    .order_by(ACTION_RESOURCE.c.id),
    "signatures": select(
        *SIGNATURE.c["id", "event", "step", "role", "epoch"],
        *PERSON.c["key", "name"],
        *SIGNATURE.c["signed_at", "comment", "content_digest"],
    )
    .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
    .where(SIGNATURE.c.plan_id == _ID)
    .order_by(SIGNATURE.c.id),
    "adjustments": select(ADJUSTMENT, *PERSON.c["key", "name"])
    .join(PERSON, PERSON.c.id == ADJUSTMENT.c.proposed_by_id)
    .where(ADJUSTMENT.c.plan_id == _ID)
    .order_by(ADJUSTMENT.c.id),
    "progress_reports": select(
        PERSON.c.key, *PROGRESS_REPORT.c["submitted_at", "summary", "blockers"]
    )
    .join(PERSON, PERSON.c.id == PROGRESS_REPORT.c.author_id)
    .where(PROGRESS_REPORT.c.plan_id == _ID)
    .order_by(PROGRESS_REPORT.c.submitted_at, PROGRESS_REPORT.c.id),
    "coaching_sessions": select(PERSON.c.key, *COACHING_SESSION.c["held_at", "minutes", "notes"])
    .join(PERSON, PERSON.c.id == COACHING_SESSION.c.coach_id)
    .where(COACHING_SESSION.c.plan_id == _ID)
    .order_by(COACHING_SESSION.c.held_at, COACHING_SESSION.c.id),
    "evaluation": select(EVALUATION, PERSON.c.key)
    .join(PERSON, PERSON.c.id == EVALUATION.c.evaluated_by_id)
    .where(EVALUATION.c.plan_id == _ID),
    "results": select(GOAL_RESULT)
    .join(EVALUATION, EVALUATION.c.id == GOAL_RESULT.c.evaluation_id)
    .where(EVALUATION.c.plan_id == _ID)
    .order_by(GOAL_RESULT.c.id),
}
_HISTORY = select(AUDIT).where(AUDIT.c.plan_id == _ID).order_by(AUDIT.c.seq)


def _rows(session: Session, name: str, plan_id: int) -> list[Any]:
    # On the session's connection: the ORM's execute adds ~15 µs a statement, which
    # a record's 15 statements would pay on every plan page and API read.
    return list(session.connection().execute(_READ[name], {"plan_id": plan_id}).tuples())


def milestone_status(due: date, done: bool, today: date) -> str:
    """done; late (past due, not done, judged on `today`); or due."""
    if done:
        return "done"
    return "late" if due < today else "due"


def _milestones(session: Session, plan_id: int, today: date) -> tuple[Milestone, ...]:
    judged = []
    for row in _rows(session, "milestones", plan_id):
        due, done = row[5], row[7] == "done"
        timeline = milestone_status(due, done, today)
        late_by = (today - due).days if timeline == "late" else 0
        judged.append(Milestone._make((*row, timeline, late_by)))
    return tuple(judged)


def _grouped(rows: Iterable[Any], key: int) -> Mapping[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def _goals(session: Session, plan_id: int, milestones: tuple[Milestone, ...]) -> tuple[Goal, ...]:
    measured = _grouped(
        (Measurement(*row) for row in _rows(session, "measurements", plan_id)), key=1
    )
    by_goal = _grouped(milestones, key=2)
    return tuple(
        # The goal's columns, then the problem's key, milestones and measurements.
        Goal(
            *(
                *row[:-1],
                row[-1] or "",
                tuple(by_goal.get(row[0], ())),
                tuple(measured.get(row[0], ())),
            )
        )
        for row in _rows(session, "goals", plan_id)
    )


def _actions(session: Session, plan_id: int) -> tuple[Action, ...]:
    rows = _rows(session, "actions", plan_id)
    if not rows:
        return ()
    collaborators = _grouped(_rows(session, "collaborators", plan_id), key=0)
    resources = _grouped((Resource(*row) for row in _rows(session, "resources", plan_id)), key=1)
    return tuple(
        # The action's columns and its goal's key, then the people and resources.
        Action(
            *(
                *row[:11],
                Named._make(row[11:13]),
                Named._make(row[13:15]) if row[13] is not None else None,
                tuple(Named._make(c[1:]) for c in collaborators.get(row[0], ())),
                tuple(resources.get(row[0], ())),
            )
        )
        for row in rows
    )


def plan_record(session: Session, plan_id: int, *, today: date) -> PlanRecord:
    """The plan's rows, its milestones judged on `today` (PlanNotFound: no such plan)."""
    found = session.connection().execute(_READ["plan"], {"plan_id": plan_id}).tuples().first()
    if found is None:
        raise PlanNotFound(plan_id)
    milestones = _milestones(session, plan_id, today)
    evaluation = _rows(session, "evaluation", plan_id)
    return PlanRecord(
        plan=PlanRow(*found),
        people=plan_people(session, plan_id),
        evidence=tuple(EvidenceRow(*r) for r in _rows(session, "evidence", plan_id)),
        problems=tuple(ProblemRow(*r) for r in _rows(session, "problems", plan_id)),
        goals=_goals(session, plan_id, milestones),
        milestones=milestones,
        actions=_actions(session, plan_id),
        signatures=tuple(SignatureRow(*r) for r in _rows(session, "signatures", plan_id)),
        adjustments=tuple(AdjustmentRow(*r) for r in _rows(session, "adjustments", plan_id)),
        progress_reports=tuple(
            ProgressRow(*r) for r in _rows(session, "progress_reports", plan_id)
        ),
        coaching_sessions=tuple(
            CoachingRow(*r) for r in _rows(session, "coaching_sessions", plan_id)
        ),
        evaluation=EvaluationRow(*evaluation[0]) if evaluation else None,
        results=tuple(GoalResultRow(*r) for r in _rows(session, "results", plan_id))
        if evaluation
        else (),
        today=today,
    )


def plan_history(session: Session, plan_id: int) -> tuple[AuditLine, ...]:
    """The plan's audit records, oldest first."""
    rows = session.connection().execute(_HISTORY, {"plan_id": plan_id}).tuples()
    return tuple(AuditLine(*row) for row in rows)
