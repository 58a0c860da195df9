"""The evaluation report as data: everything a plan's report shows, shaped from the
plan's record (`views.record`) and its history.

A read model (no writes): the plan and its people, the diagnosis, each goal's
baseline → target → actual with attainment, milestones on time or late and
whether an adjustment moved them, actions, signatures, progress and coaching,
the audit timeline and whether its chain verifies, and the evaluation. Goal
results come from the evaluation's `GoalResult` rows once the plan is
evaluated, and are computed from the latest measurements ("provisional") before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from models import clock
from people.directory import names_of
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.engine.actions import attainment, target_met
from views.record import (
    Action,
    AdjustmentRow,
    AuditLine,
    EvaluationRow,
    Goal,
    GoalResultRow,
    Measurement,
    Milestone,
    PlanRecord,
    SignatureRow,
    plan_history,
    plan_record,
)

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


def _plan(record: PlanRecord, history: tuple[AuditLine, ...]) -> PlanInfo:
    row = record.plan
    stored = {
        name: getattr(row, name) for name in PlanInfo.__dataclass_fields__ if name in row._fields
    }
    return PlanInfo(**stored, created_by=history[0].actor if history else "")


def _labels(definition: CompiledDefinition) -> DefinitionLabels:
    spec = definition.spec
    return DefinitionLabels(
        title=dict(spec.title),
        states={name: dict(state.label) for name, state in spec.states.items()},
        roles={name: dict(role.label) for name, role in spec.roles.items()},
        events={t.trigger: dict(t.label) for t in spec.transitions if t.label},
    )


def _people(record: PlanRecord, definition: CompiledDefinition) -> list[PersonInfo]:
    """The people the plan names, then its department head where the definition has one."""
    people = [PersonInfo(h.role, h.key, h.name, h.email, h.department) for h in record.people.named]
    derived = {role.derived for role in definition.spec.roles.values() if role.derived}
    head = record.people.department_head
    if "department_head" in derived and head is not None:
        people.append(
            PersonInfo("department_head", head.key, head.name, head.email, head.department, True)
        )
    return people


def _names(
    session: Session, history: tuple[AuditLine, ...], people: list[PersonInfo]
) -> dict[str, str]:
    """The names of everyone who holds a part in, or acted on, the plan."""
    known = {person.key: person.name for person in people}
    unknown = {line.actor for line in history} - set(known)
    return {**names_of(session, unknown), **known}


def _result(
    goal: Goal, measured: tuple[MeasurementInfo, ...], stored: GoalResultRow | None
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


def _measurement(row: Measurement) -> MeasurementInfo:
    return MeasurementInfo(row.value, row.measured_on, row.source, row.note, row.recorded_by)


def _goals(record: PlanRecord) -> list[GoalInfo]:
    stored = {result.goal_id: result for result in record.results}
    goals = []
    for goal in record.goals:
        measured = tuple(_measurement(m) for m in goal.measurements)
        goals.append(
            GoalInfo(
                key=goal.key,
                title=goal.title,
                metric=goal.metric,
                unit=goal.unit,
                direction=goal.direction,
                baseline=goal.baseline,
                target=goal.target,
                deadline=goal.deadline,
                priority=goal.priority,
                source=goal.source,
                problem=goal.problem,
                result=_result(goal, measured, stored.get(goal.id)),
                measurements=measured,
            )
        )
    return goals


def _confirming_events(definition: CompiledDefinition) -> set[str]:
    """Approval events whose transition seals adjustments (re-confirmation)."""
    return {
        t.trigger
        for t in definition.spec.transitions
        if t.approval and "confirm_adjustments" in t.actions
    }


def _adjustment(
    row: AdjustmentRow, signatures: list[SignatureInfo], events: set[str]
) -> AdjustmentInfo:
    return AdjustmentInfo(
        target_kind=row.target_kind,
        target_key=row.target_key,
        before={k: str(v) for k, v in row.before.items()},
        after={k: str(v) for k, v in row.after.items()},
        reason=row.reason,
        proposed_by=row.proposed_by,
        proposed_by_name=row.proposed_by_name,
        proposed_at=row.proposed_at,
        status=row.status,
        confirmed_at=row.confirmed_at,
        confirmed_by=_confirmed_by(row, signatures, events),
    )


def _confirmed_by(
    adjustment: AdjustmentRow, signatures: list[SignatureInfo], events: set[str]
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


def _milestone(row: Milestone, adjustments: list[AdjustmentInfo], as_of: date) -> MilestoneInfo:
    moves = tuple(
        a for a in adjustments if a.target_kind == "milestone" and a.target_key == row.key
    )
    original_due = _original_due(row.due, moves)
    status, days_late = _milestone_status(row.due, row.done_at, as_of)
    return MilestoneInfo(
        key=row.key,
        goal=row.goal,
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


def _action(action: Action) -> ActionInfo:
    return ActionInfo(
        key=action.key,
        goal=action.goal,
        title=action.title,
        executor=action.executor.key,
        supporter=action.supporter.key if action.supporter else "",
        collaborators=tuple(person.key for person in action.collaborators),
        starts=action.starts,
        ends=action.ends,
        recurrence=action.recurrence,
        resources=tuple(ResourceInfo(r.name, r.amount, r.status) for r in action.resources),
    )


def _signatures(rows: Iterable[SignatureRow]) -> list[SignatureInfo]:
    ordered = sorted(rows, key=lambda s: (s.signed_at, s.id))
    return [
        SignatureInfo(s.person, s.name, s.role, s.event, s.step, s.signed_at, s.comment)
        for s in ordered
    ]


def _timeline(history: tuple[AuditLine, ...]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            r.seq, r.kind, r.event, r.from_state, r.to_state, r.actor, r.role, r.at, r.comment
        )
        for r in history
    ]


def _audit(record: PlanRecord, history: tuple[AuditLine, ...]) -> AuditInfo:
    tip = (record.plan.audit_seq, record.plan.audit_head)
    report = audit.verify_chain(record.plan.id, list(history), tip)
    return AuditInfo(report.ok, report.records, tuple(str(b) for b in report.breaks))


def _evaluation(row: EvaluationRow | None) -> EvaluationInfo | None:
    if row is None:
        return None
    return EvaluationInfo(
        row.outcome, row.feedback, row.lessons, row.evaluated_by, row.evaluated_at
    )


def evaluation_report(
    session: Session, *, plan_id: int, now: datetime | None = None
) -> EvaluationReport:
    """Everything the evaluation report of `plan_id` shows.

    Milestones still open are judged as of the evaluation, or `now` (default:
    the clock) for a plan not yet evaluated. Raises `PlanNotFound`.
    """
    moment = clock.utc(now or clock.now())
    record = plan_record(session, plan_id, today=moment.date())
    history = plan_history(session, plan_id)
    definition = catalog.by_hash(session, record.plan.definition_hash)
    evaluation = _evaluation(record.evaluation)
    as_of = evaluation.evaluated_at if evaluation else moment
    signatures = _signatures(record.signatures)
    events = _confirming_events(definition)
    adjustments = [_adjustment(row, signatures, events) for row in record.adjustments]
    people = _people(record, definition)
    return EvaluationReport(
        plan=_plan(record, history),
        as_of=as_of,
        labels=_labels(definition),
        people=tuple(people),
        names=_names(session, history, people),
        evidence=tuple(EvidenceInfo(e.kind, e.summary, e.source) for e in record.evidence),
        problems=tuple(
            ProblemInfo(p.key, p.description, p.metric, p.observed, p.expected, p.cause)
            for p in record.problems
        ),
        goals=tuple(_goals(record)),
        milestones=tuple(_milestone(m, adjustments, as_of.date()) for m in record.milestones),
        actions=tuple(_action(action) for action in record.actions),
        adjustments=tuple(adjustments),
        signatures=tuple(signatures),
        progress_reports=tuple(ProgressInfo(*row) for row in record.progress_reports),
        coaching_sessions=tuple(CoachingInfo(*row) for row in record.coaching_sessions),
        timeline=tuple(_timeline(history)),
        audit=_audit(record, history),
        evaluation=evaluation,
    )
