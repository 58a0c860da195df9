"""The evaluation report as data: everything a plan's report shows, read in one session.

A read model (no writes): the plan and its people, the diagnosis, each goal's
baseline → target → actual with attainment, milestones on time or late and
whether an adjustment moved them, actions, signatures, progress and coaching,
the audit timeline and whether its chain verifies, and the evaluation. Goal
results come from the evaluation's `GoalResult` rows once the plan is
evaluated, and are computed from the latest measurements ("provisional") before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session

from models import clock
from models.tables import (
    ACTION,
    ACTION_COLLABORATOR,
    ACTION_RESOURCE,
    ADJUSTMENT,
    AUDIT,
    COACHING_SESSION,
    DEPARTMENT,
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
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.engine.actions import attainment, target_met
from states.errors import PlanNotFound

Labels = dict[str, str]  # locale -> text, as definitions write labels


@dataclass(frozen=True)
class PlanInfo:
    id: int
    title: str
    reason: str
    state: str
    definition_name: str
    definition_version: int
    definition_hash: str
    period_start: date
    period_end: date
    report_every: str
    coaching_every: str
    created_at: datetime
    created_by: str
    audit_head: str


@dataclass(frozen=True)
class PersonInfo:
    role: str
    key: str
    name: str
    email: str
    department: str
    derived: bool = False  # held through the organisation (department head), not named


@dataclass(frozen=True)
class EvidenceInfo:
    kind: str
    summary: str
    source: str


@dataclass(frozen=True)
class ProblemInfo:
    key: str
    description: str
    metric: str
    observed: str
    expected: str
    cause: str


@dataclass(frozen=True)
class MeasurementInfo:
    value: float
    measured_on: date
    source: str
    note: str
    recorded_by: str


@dataclass(frozen=True)
class GoalResultInfo:
    """A goal's actual value against its target; `final` once the plan is evaluated."""

    actual: float
    measured_on: date | None
    source: str
    attainment: float  # share of the planned improvement reached, 1.0 = target
    met: bool
    final: bool


@dataclass(frozen=True)
class GoalInfo:
    key: str
    title: str
    metric: str
    unit: str
    direction: str  # raise | lower
    baseline: float | None
    target: float
    deadline: date
    priority: int
    source: str
    problem: str
    result: GoalResultInfo | None
    measurements: tuple[MeasurementInfo, ...]


@dataclass(frozen=True)
class AdjustmentInfo:
    target_kind: str  # milestone | action
    target_key: str
    before: dict[str, str]
    after: dict[str, str]
    reason: str
    proposed_by: str
    proposed_by_name: str
    proposed_at: datetime
    status: str  # proposed | confirmed
    confirmed_at: datetime | None
    confirmed_by: tuple[str, ...]


@dataclass(frozen=True)
class MilestoneInfo:
    key: str
    goal: str
    title: str
    criterion: str
    due: date  # as it stands now, after any adjustment
    original_due: date  # as first agreed
    done_at: datetime | None
    status: str  # on_time | late | open | overdue
    days_late: int
    adjustments: tuple[AdjustmentInfo, ...]
    moved: bool  # the due date differs from the one first agreed


@dataclass(frozen=True)
class ResourceInfo:
    name: str
    amount: str
    status: str


@dataclass(frozen=True)
class ActionInfo:
    key: str
    goal: str
    title: str
    executor: str
    supporter: str
    collaborators: tuple[str, ...]
    starts: date | None
    ends: date | None
    recurrence: str
    resources: tuple[ResourceInfo, ...]


@dataclass(frozen=True)
class SignatureInfo:
    person: str
    name: str
    role: str
    event: str
    step: int
    signed_at: datetime
    comment: str


@dataclass(frozen=True)
class ProgressInfo:
    author: str
    submitted_at: datetime
    summary: str
    blockers: str


@dataclass(frozen=True)
class CoachingInfo:
    coach: str
    held_at: datetime
    minutes: int
    notes: str


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    kind: str  # transition | signature | record
    event: str
    from_state: str
    to_state: str
    actor: str
    role: str
    at: datetime
    comment: str


@dataclass(frozen=True)
class AuditInfo:
    verified: bool
    records: int
    breaks: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationInfo:
    outcome: str  # successful | extended | not_met
    feedback: str
    lessons: str
    evaluated_by: str
    evaluated_at: datetime


@dataclass(frozen=True)
class DefinitionLabels:
    """The definition's own words for itself, its states, roles and events, per locale."""

    title: Labels
    states: dict[str, Labels]
    roles: dict[str, Labels]
    events: dict[str, Labels]


@dataclass(frozen=True)
class EvaluationReport:
    plan: PlanInfo
    as_of: datetime
    labels: DefinitionLabels
    people: tuple[PersonInfo, ...]
    names: dict[str, str]  # person key -> name, for everyone the report mentions
    evidence: tuple[EvidenceInfo, ...]
    problems: tuple[ProblemInfo, ...]
    goals: tuple[GoalInfo, ...]
    milestones: tuple[MilestoneInfo, ...]
    actions: tuple[ActionInfo, ...]
    adjustments: tuple[AdjustmentInfo, ...]
    signatures: tuple[SignatureInfo, ...]
    progress_reports: tuple[ProgressInfo, ...]
    coaching_sessions: tuple[CoachingInfo, ...]
    timeline: tuple[TimelineEntry, ...]
    audit: AuditInfo
    evaluation: EvaluationInfo | None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON), with the summary figures the report shows."""
        return {
            **asdict(self),
            "summary": {
                "results_final": self.results_final,
                "goals_met": self.goals_met,
                "goals": len(self.goals),
                "milestones_on_time": self.milestones_on_time,
                "milestones": len(self.milestones),
                "coaching_minutes": self.coaching_minutes,
            },
        }

    @property
    def results_final(self) -> bool:
        return self.evaluation is not None

    @property
    def transitions(self) -> tuple[TimelineEntry, ...]:
        return tuple(entry for entry in self.timeline if entry.kind == "transition")

    @property
    def goal_titles(self) -> dict[str, str]:
        return {goal.key: goal.title for goal in self.goals}

    @property
    def goals_met(self) -> int:
        return sum(1 for goal in self.goals if goal.result is not None and goal.result.met)

    @property
    def milestones_on_time(self) -> int:
        return sum(1 for milestone in self.milestones if milestone.status == "on_time")

    @property
    def coaching_minutes(self) -> int:
        return sum(session.minutes for session in self.coaching_sessions)


def _rows(session: Session, query: Select[Any]) -> list[Any]:
    return list(session.execute(query))


def _plan(session: Session, plan_id: int) -> PlanInfo:
    row = session.execute(select(PLAN).where(PLAN.c.id == plan_id)).first()
    if row is None:
        raise PlanNotFound(plan_id)
    created_by = session.execute(
        select(AUDIT.c.actor).where(AUDIT.c.plan_id == plan_id).order_by(AUDIT.c.seq).limit(1)
    ).scalar()
    stored = {
        name: getattr(row, name) for name in PlanInfo.__dataclass_fields__ if name in row._fields
    }
    return PlanInfo(**stored, created_by=created_by or "")


def _labels(definition: CompiledDefinition) -> DefinitionLabels:
    spec = definition.spec
    return DefinitionLabels(
        title=dict(spec.title),
        states={name: dict(state.label) for name, state in spec.states.items()},
        roles={name: dict(role.label) for name, role in spec.roles.items()},
        events={t.trigger: dict(t.label) for t in spec.transitions if t.label},
    )


def _people(session: Session, plan_id: int, definition: CompiledDefinition) -> list[PersonInfo]:
    rows = _rows(
        session,
        select(
            PLAN_ROLE.c.role,
            PERSON.c.key,
            PERSON.c.name,
            PERSON.c.email,
            DEPARTMENT.c.name.label("department"),
            PERSON.c.department_id,
        )
        .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
        .outerjoin(DEPARTMENT, DEPARTMENT.c.id == PERSON.c.department_id)
        .where(PLAN_ROLE.c.plan_id == plan_id)
        .order_by(PLAN_ROLE.c.id),
    )
    people = [PersonInfo(r.role, r.key, r.name, r.email, r.department or "") for r in rows]
    employee_department = next((r.department_id for r in rows if r.role == "employee"), None)
    derived = [name for name, role in definition.spec.roles.items() if role.derived]
    if "department_head" in derived and employee_department is not None:
        head = session.execute(
            select(PERSON.c.key, PERSON.c.name, PERSON.c.email, DEPARTMENT.c.name)
            .join(DEPARTMENT, DEPARTMENT.c.head_id == PERSON.c.id)
            .where(DEPARTMENT.c.id == employee_department)
        ).first()
        if head is not None:
            key, name, email, department = head
            people.append(PersonInfo("department_head", key, name, email, department, True))
    return people


def _names(session: Session, plan_id: int) -> dict[str, str]:
    """Names of everyone who holds a role on, or acted on, the plan."""
    actors = select(AUDIT.c.actor).where(AUDIT.c.plan_id == plan_id)
    holders = select(PERSON.c.key).join(PLAN_ROLE).where(PLAN_ROLE.c.plan_id == plan_id)
    rows = session.execute(
        select(PERSON.c.key, PERSON.c.name).where(
            PERSON.c.key.in_(actors) | PERSON.c.key.in_(holders)
        )
    )
    return {key: name for key, name in rows}


def _diagnosis(session: Session, plan_id: int) -> tuple[list[EvidenceInfo], list[ProblemInfo]]:
    evidence = _rows(
        session,
        select(EVIDENCE.c.kind, EVIDENCE.c.summary, EVIDENCE.c.source)
        .where(EVIDENCE.c.plan_id == plan_id)
        .order_by(EVIDENCE.c.id),
    )
    problems = _rows(
        session,
        select(
            PROBLEM.c.key,
            PROBLEM.c.description,
            PROBLEM.c.metric,
            PROBLEM.c.observed,
            PROBLEM.c.expected,
            PROBLEM.c.cause,
        )
        .where(PROBLEM.c.plan_id == plan_id)
        .order_by(PROBLEM.c.id),
    )
    return [EvidenceInfo(*row) for row in evidence], [ProblemInfo(*row) for row in problems]


def _measurements(session: Session, plan_id: int) -> dict[int, list[MeasurementInfo]]:
    """Every goal's measurements, oldest first (the last one is the latest)."""
    rows = session.execute(
        select(
            MEASUREMENT.c.goal_id,
            MEASUREMENT.c.value,
            MEASUREMENT.c.measured_on,
            MEASUREMENT.c.source,
            MEASUREMENT.c.note,
            PERSON.c.key,
        )
        .join(PERSON, PERSON.c.id == MEASUREMENT.c.recorded_by_id)
        .where(MEASUREMENT.c.plan_id == plan_id)
        .order_by(MEASUREMENT.c.measured_on, MEASUREMENT.c.id)
    )
    by_goal: dict[int, list[MeasurementInfo]] = defaultdict(list)
    for goal_id, *fields in rows:
        by_goal[goal_id].append(MeasurementInfo(*fields))
    return by_goal


def _stored_results(session: Session, plan_id: int) -> dict[int, Any]:
    rows = session.execute(
        select(GOAL_RESULT)
        .join(EVALUATION, EVALUATION.c.id == GOAL_RESULT.c.evaluation_id)
        .where(EVALUATION.c.plan_id == plan_id)
    )
    return {row.goal_id: row for row in rows}


def _result(
    goal: Any, measured: list[MeasurementInfo], stored: Any | None
) -> GoalResultInfo | None:
    """The evaluation's stored result when there is one, else one computed from the latest
    measurement (provisional); None for a goal never measured."""
    if stored is not None:
        source = next(
            (m.source for m in reversed(measured) if m.measured_on == stored.measured_on), ""
        )
        return GoalResultInfo(
            stored.actual, stored.measured_on, source, stored.attainment, stored.met, final=True
        )
    if not measured:
        return None
    latest = measured[-1]
    return GoalResultInfo(
        actual=latest.value,
        measured_on=latest.measured_on,
        source=latest.source,
        attainment=attainment(goal.baseline, goal.target, latest.value, goal.direction),
        met=target_met(goal.target, latest.value, goal.direction),
        final=False,
    )


def _goals(session: Session, plan_id: int) -> list[GoalInfo]:
    rows = _rows(
        session,
        select(GOAL, PROBLEM.c.key.label("problem_key"))
        .outerjoin(PROBLEM, PROBLEM.c.id == GOAL.c.problem_id)
        .where(GOAL.c.plan_id == plan_id)
        .order_by(GOAL.c.priority, GOAL.c.id),
    )
    measured = _measurements(session, plan_id)
    stored = _stored_results(session, plan_id)
    return [
        GoalInfo(
            key=g.key,
            title=g.title,
            metric=g.metric,
            unit=g.unit,
            direction=g.direction,
            baseline=g.baseline,
            target=g.target,
            deadline=g.deadline,
            priority=g.priority,
            source=g.source,
            problem=g.problem_key or "",
            result=_result(g, measured[g.id], stored.get(g.id)),
            measurements=tuple(measured[g.id]),
        )
        for g in rows
    ]


def _confirming_events(definition: CompiledDefinition) -> set[str]:
    """Approval events whose transition seals adjustments (re-confirmation)."""
    return {
        t.trigger
        for t in definition.spec.transitions
        if t.approval and "confirm_adjustments" in t.actions
    }


def _adjustments(
    session: Session, plan_id: int, signatures: list[SignatureInfo], events: set[str]
) -> list[AdjustmentInfo]:
    rows = _rows(
        session,
        select(ADJUSTMENT, PERSON.c.key.label("by"), PERSON.c.name.label("by_name"))
        .join(PERSON, PERSON.c.id == ADJUSTMENT.c.proposed_by_id)
        .where(ADJUSTMENT.c.plan_id == plan_id)
        .order_by(ADJUSTMENT.c.id),
    )
    return [
        AdjustmentInfo(
            target_kind=r.target_kind,
            target_key=r.target_key,
            before={k: str(v) for k, v in r.before.items()},
            after={k: str(v) for k, v in r.after.items()},
            reason=r.reason,
            proposed_by=r.by,
            proposed_by_name=r.by_name,
            proposed_at=r.proposed_at,
            status=r.status,
            confirmed_at=r.confirmed_at,
            confirmed_by=_confirmed_by(r, signatures, events),
        )
        for r in rows
    ]


def _confirmed_by(
    adjustment: Any, signatures: list[SignatureInfo], events: set[str]
) -> tuple[str, ...]:
    # An adjustment row does not name its confirming round; the round's signatures
    # are those of a confirming event given between the proposal and the confirmation.
    if adjustment.confirmed_at is None:
        return ()
    return tuple(
        s.person
        for s in signatures
        if s.event in events and adjustment.proposed_at <= s.signed_at <= adjustment.confirmed_at
    )


def _milestone_status(due: date, done_at: datetime | None, as_of: date) -> tuple[str, int]:
    """On time or late (by how many days) once done; open or overdue while not."""
    if done_at is not None:
        late = (done_at.date() - due).days
        return ("late", late) if late > 0 else ("on_time", 0)
    overdue = (as_of - due).days
    return ("overdue", overdue) if overdue > 0 else ("open", 0)


def _original_due(due: date, adjustments: Iterable[AdjustmentInfo]) -> date:
    for adjustment in adjustments:  # oldest first: the first move says what was agreed
        if "due" in adjustment.before:
            return date.fromisoformat(adjustment.before["due"])
    return due


def _milestones(
    session: Session, plan_id: int, adjustments: list[AdjustmentInfo], as_of: date
) -> list[MilestoneInfo]:
    rows = _rows(
        session,
        select(MILESTONE, GOAL.c.key.label("goal_key"))
        .join(GOAL, GOAL.c.id == MILESTONE.c.goal_id)
        .where(MILESTONE.c.plan_id == plan_id)
        .order_by(MILESTONE.c.due, MILESTONE.c.id),
    )
    return [_milestone(row, adjustments, as_of) for row in rows]


def _milestone(row: Any, adjustments: list[AdjustmentInfo], as_of: date) -> MilestoneInfo:
    moves = tuple(
        a for a in adjustments if a.target_kind == "milestone" and a.target_key == row.key
    )
    original_due = _original_due(row.due, moves)
    status, days_late = _milestone_status(row.due, row.done_at, as_of)
    return MilestoneInfo(
        key=row.key,
        goal=row.goal_key,
        title=row.title,
        criterion=row.criterion,
        due=row.due,
        original_due=original_due,
        done_at=row.done_at,
        status=status,
        days_late=days_late,
        adjustments=moves,
        moved=original_due != row.due,
    )


def _actions(session: Session, plan_id: int) -> list[ActionInfo]:
    supporter = PERSON.alias("supporter")
    rows = _rows(
        session,
        select(
            ACTION.c.id,
            ACTION.c.key,
            GOAL.c.key,
            ACTION.c.title,
            PERSON.c.key,
            supporter.c.key,
            ACTION.c.starts,
            ACTION.c.ends,
            ACTION.c.recurrence,
        )
        .join(GOAL, GOAL.c.id == ACTION.c.goal_id)
        .join(PERSON, PERSON.c.id == ACTION.c.executor_id)
        .outerjoin(supporter, supporter.c.id == ACTION.c.supporter_id)
        .where(ACTION.c.plan_id == plan_id)
        .order_by(ACTION.c.id),
    )
    ids = [row[0] for row in rows]
    collaborators: dict[int, list[str]] = defaultdict(list)
    for action_id, key in session.execute(
        select(ACTION_COLLABORATOR.c.action_id, PERSON.c.key)
        .join(PERSON, PERSON.c.id == ACTION_COLLABORATOR.c.person_id)
        .where(ACTION_COLLABORATOR.c.action_id.in_(ids))
        .order_by(PERSON.c.key)
    ):
        collaborators[action_id].append(key)
    resources: dict[int, list[ResourceInfo]] = defaultdict(list)
    for action_id, *fields in session.execute(
        select(
            ACTION_RESOURCE.c.action_id,
            ACTION_RESOURCE.c.name,
            ACTION_RESOURCE.c.amount,
            ACTION_RESOURCE.c.status,
        )
        .where(ACTION_RESOURCE.c.action_id.in_(ids))
        .order_by(ACTION_RESOURCE.c.id)
    ):
        resources[action_id].append(ResourceInfo(*fields))
    return [
        ActionInfo(
            key,
            goal,
            title,
            executor,
            supporter_key or "",
            tuple(collaborators[id_]),
            starts,
            ends,
            recurrence,
            tuple(resources[id_]),
        )
        for id_, key, goal, title, executor, supporter_key, starts, ends, recurrence in rows
    ]


def _signatures(session: Session, plan_id: int) -> list[SignatureInfo]:
    rows = session.execute(
        select(
            PERSON.c.key,
            PERSON.c.name,
            SIGNATURE.c.role,
            SIGNATURE.c.event,
            SIGNATURE.c.step,
            SIGNATURE.c.signed_at,
            SIGNATURE.c.comment,
        )
        .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
        .where(SIGNATURE.c.plan_id == plan_id)
        .order_by(SIGNATURE.c.signed_at, SIGNATURE.c.id)
    )
    return [SignatureInfo(*row) for row in rows]


def chain_progress(session: Session, plan_id: int) -> tuple[list[ProgressInfo], list[CoachingInfo]]:
    reports = session.execute(
        select(
            PERSON.c.key,
            PROGRESS_REPORT.c.submitted_at,
            PROGRESS_REPORT.c.summary,
            PROGRESS_REPORT.c.blockers,
        )
        .join(PERSON, PERSON.c.id == PROGRESS_REPORT.c.author_id)
        .where(PROGRESS_REPORT.c.plan_id == plan_id)
        .order_by(PROGRESS_REPORT.c.submitted_at, PROGRESS_REPORT.c.id)
    )
    coaching = session.execute(
        select(
            PERSON.c.key,
            COACHING_SESSION.c.held_at,
            COACHING_SESSION.c.minutes,
            COACHING_SESSION.c.notes,
        )
        .join(PERSON, PERSON.c.id == COACHING_SESSION.c.coach_id)
        .where(COACHING_SESSION.c.plan_id == plan_id)
        .order_by(COACHING_SESSION.c.held_at, COACHING_SESSION.c.id)
    )
    return [ProgressInfo(*r) for r in reports], [CoachingInfo(*r) for r in coaching]


def _timeline(session: Session, plan_id: int) -> list[TimelineEntry]:
    rows = session.execute(
        select(
            AUDIT.c.seq,
            AUDIT.c.kind,
            AUDIT.c.event,
            AUDIT.c.from_state,
            AUDIT.c.to_state,
            AUDIT.c.actor,
            AUDIT.c.role,
            AUDIT.c.at,
            AUDIT.c.comment,
        )
        .where(AUDIT.c.plan_id == plan_id)
        .order_by(AUDIT.c.seq)
    )
    return [TimelineEntry(*row) for row in rows]


def _audit(session: Session, plan_id: int) -> AuditInfo:
    report = audit.verify(session, plan_id)
    return AuditInfo(report.ok, report.records, tuple(str(b) for b in report.breaks))


def _evaluation(session: Session, plan_id: int) -> EvaluationInfo | None:
    row = session.execute(
        select(
            EVALUATION.c.outcome,
            EVALUATION.c.feedback,
            EVALUATION.c.lessons,
            PERSON.c.key,
            EVALUATION.c.evaluated_at,
        )
        .join(PERSON, PERSON.c.id == EVALUATION.c.evaluated_by_id)
        .where(EVALUATION.c.plan_id == plan_id)
    ).first()
    return EvaluationInfo(*row) if row is not None else None


def evaluation_report(
    session: Session, *, plan_id: int, now: datetime | None = None
) -> EvaluationReport:
    """Everything the evaluation report of `plan_id` shows.

    Milestones still open are judged as of the evaluation, or `now` (default:
    the clock) for a plan not yet evaluated. Raises `PlanNotFound`.
    """
    plan = _plan(session, plan_id)
    definition = catalog.by_hash(session, plan.definition_hash)
    evaluation = _evaluation(session, plan_id)
    as_of = evaluation.evaluated_at if evaluation else clock.utc(now or clock.now())
    signatures = _signatures(session, plan_id)
    adjustments = _adjustments(session, plan_id, signatures, _confirming_events(definition))
    evidence, problems = _diagnosis(session, plan_id)
    reports, coaching = chain_progress(session, plan_id)
    people = _people(session, plan_id, definition)
    return EvaluationReport(
        plan=plan,
        as_of=as_of,
        labels=_labels(definition),
        people=tuple(people),
        names=_names(session, plan_id) | {p.key: p.name for p in people},
        evidence=tuple(evidence),
        problems=tuple(problems),
        goals=tuple(_goals(session, plan_id)),
        milestones=tuple(_milestones(session, plan_id, adjustments, as_of.date())),
        actions=tuple(_actions(session, plan_id)),
        adjustments=tuple(adjustments),
        signatures=tuple(signatures),
        progress_reports=tuple(reports),
        coaching_sessions=tuple(coaching),
        timeline=tuple(_timeline(session, plan_id)),
        audit=_audit(session, plan_id),
        evaluation=evaluation,
    )
