"""The evaluation report as data: everything a plan's report shows, shaped from the
plan's record (`views.record`) and its history.

A read model (no writes): the plan and its people, the diagnosis, each goal's
baseline → target → actual with attainment, milestones on time or late and
whether an adjustment moved them, actions, signatures, progress and coaching,
the audit timeline and whether its chain verifies, and the evaluation. Goal
results come from the evaluation's `GoalResult` rows once the plan is
evaluated, and are computed from the latest measurements ("provisional") before.
The record's rows are shown as they are; what the report adds is its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from models import clock
from people.directory import names_of
from people.roles import Holder
from states import audit
from states.definitions import catalog
from states.definitions.compiled import CompiledDefinition
from states.definitions.durations import parse_duration
from states.definitions.schema import Cadence
from states.engine.actions import attainment, target_met
from views.record import (
    Action,
    AdjustmentRow,
    AuditLine,
    CoachingRow,
    EvaluationRow,
    EvidenceRow,
    Goal,
    GoalResultRow,
    Measurement,
    Milestone,
    PlanRecord,
    PlanRow,
    ProblemRow,
    ProgressRow,
    Resource,
    SignatureRow,
    plan_history,
    plan_record,
)

Labels = dict[str, str]  # locale -> text, as definitions write labels


class _Adds:
    """What the report adds to one row of the plan's record (named by `_row`, its first
    field): the row answers for every attribute the report does not add, and its plain
    form is the row's fields and the report's."""

    _row: str

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_row", self._row):  # not built yet (copies)
            raise AttributeError(name)
        return getattr(getattr(self, self._row), name)

    def plain(self) -> dict[str, Any]:
        shown = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        row = shown.pop(self._row)
        return {**row, **shown}


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
class GoalInfo(_Adds):
    """A goal as the report weighs it: the record's goal and its result."""

    _row = "goal"
    goal: Goal
    result: GoalResultInfo | None


@dataclass(frozen=True)
class AdjustmentInfo(_Adds):
    """An adjustment and who re-confirmed it."""

    _row = "adjustment"
    adjustment: AdjustmentRow
    confirmed_by: tuple[str, ...]


@dataclass(frozen=True)
class MilestoneInfo(_Adds):
    """A milestone on time or late once done, open or overdue while not (as of the
    report), and the adjustments that moved it."""

    _row = "milestone"
    milestone: Milestone  # its due date as it stands now, after any adjustment
    original_due: date  # as first agreed
    # on_time | late | moved_late (met only after its date moved past the date first
    # agreed: not on time) | open | overdue
    status: str
    days_late: int  # after the date it was due when done (moved_late: the date first agreed)
    adjustments: tuple[AdjustmentInfo, ...]

    @property
    def moved(self) -> bool:
        """The due date differs from the one first agreed."""
        return self.original_due != self.milestone.due

    def plain(self) -> dict[str, Any]:
        return {**super().plain(), "moved": self.moved}


@dataclass(frozen=True)
class ActionInfo:
    """An action as the report names its people: by key (`EvaluationReport.names`)."""

    key: str
    goal: str
    title: str
    executor: str
    supporter: str
    collaborators: tuple[str, ...]
    starts: date | None
    ends: date | None
    recurrence: str
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class Tracking:
    """Progress reports or coaching talks: how many were held, and how many the plan's
    cadence expected over its period so far (None: the definition sets no cadence)."""

    held: int
    expected: int | None
    every: str  # the plan's cadence (ISO duration, e.g. P1W)
    weeks: int  # the weeks of the period the expectation covers


@dataclass(frozen=True)
class AuditInfo:
    verified: bool
    records: int
    breaks: tuple[str, ...]


@dataclass(frozen=True)
class DefinitionLabels:
    """The definition's own words for itself, its states, roles and events, per locale."""

    title: Labels
    states: dict[str, Labels]
    roles: dict[str, Labels]
    events: dict[str, Labels]


def _plain(value: Any) -> Any:
    """Rows and their compositions as JSON-ready data: records become mappings."""
    if isinstance(value, _Adds):
        return value.plain()
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a row (NamedTuple)
        return {name: _plain(item) for name, item in value._asdict().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class EvaluationReport:
    plan: PlanRow
    created_by: str  # who opened the plan (a person's key)
    as_of: datetime
    labels: DefinitionLabels
    people: tuple[Holder, ...]
    names: dict[str, str]  # person key -> name, for everyone the report mentions
    evidence: tuple[EvidenceRow, ...]
    problems: tuple[ProblemRow, ...]
    goals: tuple[GoalInfo, ...]
    milestones: tuple[MilestoneInfo, ...]
    actions: tuple[ActionInfo, ...]
    adjustments: tuple[AdjustmentInfo, ...]
    signatures: tuple[SignatureRow, ...]
    progress_reports: tuple[ProgressRow, ...]
    coaching_sessions: tuple[CoachingRow, ...]
    timeline: tuple[AuditLine, ...]
    audit: AuditInfo
    evaluation: EvaluationRow | None
    reporting: Tracking  # progress reports held against the cadence
    coaching: Tracking  # coaching talks held against the cadence
    calendar: str  # the country whose working days the plan runs on (e.g. CN)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON), with the summary figures the report shows."""
        shown = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {
            **shown,
            "summary": {
                "results_final": self.results_final,
                "goals_met": self.goals_met,
                "goals": len(self.goals),
                "milestones_on_time": self.milestones_on_time,
                "milestones": len(self.milestones),
                "progress_reports_expected": self.reporting.expected,
                "coaching_sessions_expected": self.coaching.expected,
                "coaching_minutes": self.coaching_minutes,
            },
        }

    @property
    def results_final(self) -> bool:
        return self.evaluation is not None

    @property
    def transitions(self) -> tuple[AuditLine, ...]:
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


def _labels(definition: CompiledDefinition) -> DefinitionLabels:
    spec = definition.spec
    return DefinitionLabels(
        title=dict(spec.title),
        states={name: dict(state.label) for name, state in spec.states.items()},
        roles={name: dict(role.label) for name, role in spec.roles.items()},
        events={t.trigger: dict(t.label) for t in spec.transitions if t.label},
    )


def _people(record: PlanRecord, definition: CompiledDefinition) -> tuple[Holder, ...]:
    """The people the plan names, then its department head where the definition has one."""
    derived = {role.derived for role in definition.spec.roles.values() if role.derived}
    head = record.people.department_head
    if "department_head" in derived and head is not None:
        return (*record.people.named, head)
    return record.people.named


def _names(
    session: Session, history: tuple[AuditLine, ...], people: tuple[Holder, ...]
) -> dict[str, str]:
    """The names of everyone who holds a part in, or acted on, the plan."""
    known = {person.key: person.name for person in people}
    unknown = {line.actor for line in history} - set(known)
    return {**names_of(session, unknown), **known}


def _result(goal: Goal, stored: GoalResultRow | None) -> GoalResultInfo | None:
    """The evaluation's stored result when there is one, else one computed from the latest
    measurement (provisional); None for a goal never measured."""
    measured = goal.measurements
    if stored is not None:
        source = next(
            (m.source for m in reversed(measured) if m.measured_on == stored.measured_on), ""
        )
        return GoalResultInfo(
            stored.actual, stored.measured_on, source, stored.attainment, stored.met, final=True
        )
    if not measured:
        return None
    latest: Measurement = measured[-1]
    return GoalResultInfo(
        actual=latest.value,
        measured_on=latest.measured_on,
        source=latest.source,
        attainment=attainment(goal.baseline, goal.target, latest.value, goal.direction),
        met=target_met(goal.target, latest.value, goal.direction),
        final=False,
    )


def _confirming_events(definition: CompiledDefinition) -> set[str]:
    """Approval events whose transition seals adjustments (re-confirmation)."""
    return {
        t.trigger
        for t in definition.spec.transitions
        if t.approval and "confirm_adjustments" in t.actions
    }


def _confirmed_by(
    adjustment: AdjustmentRow, signatures: Iterable[SignatureRow], events: set[str]
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


def _milestone_status(
    due: date, original_due: date, done_at: datetime | None, as_of: date
) -> tuple[str, int]:
    """On time or late (by how many days) once done; open or overdue while not. A
    milestone done after the date first agreed is not on time, even when an adjustment
    moved its date past the day it was done (missed, then moved: `moved_late`)."""
    if done_at is not None:
        late = (done_at.date() - due).days
        if late > 0:
            return "late", late
        behind = (done_at.date() - original_due).days
        return ("moved_late", behind) if behind > 0 else ("on_time", 0)
    overdue = (as_of - due).days
    return ("overdue", overdue) if overdue > 0 else ("open", 0)


def _original_due(due: date, adjustments: Iterable[AdjustmentInfo]) -> date:
    for adjustment in adjustments:  # oldest first: the first move says what was agreed
        if "due" in adjustment.before:
            return date.fromisoformat(str(adjustment.before["due"]))
    return due


def _milestone(
    row: Milestone, adjustments: tuple[AdjustmentInfo, ...], as_of: date
) -> MilestoneInfo:
    moves = tuple(
        a for a in adjustments if a.target_kind == "milestone" and a.target_key == row.key
    )
    original_due = _original_due(row.due, moves)
    status, days_late = _milestone_status(row.due, original_due, row.done_at, as_of)
    return MilestoneInfo(row, original_due, status, days_late, moves)


def _tracking(
    record: PlanRecord, cadence: Cadence | None, every: str, held: int, as_of: date
) -> Tracking:
    """What was held against what the cadence expects: one per period of `every` over
    the plan's period up to `as_of` (13 for a weekly cadence over Zhang's 13 weeks)."""
    plan = record.plan
    end = min(plan.period_end, as_of)
    days = max((end - plan.period_start).days + 1, 0)
    weeks = days // 7
    if cadence is None:
        return Tracking(held, None, every, weeks)
    step = max(parse_duration(every).delta.days, 1)
    return Tracking(held, days // step, every, weeks)


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
        resources=action.resources,
    )


def _audit(record: PlanRecord, history: tuple[AuditLine, ...]) -> AuditInfo:
    tip = (record.plan.audit_seq, record.plan.audit_head)
    report = audit.verify_chain(record.plan.id, list(history), tip)
    return AuditInfo(report.ok, report.records, tuple(str(b) for b in report.breaks))


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
    as_of = record.evaluation.evaluated_at if record.evaluation else moment
    signatures = tuple(sorted(record.signatures, key=lambda s: (s.signed_at, s.id)))
    events = _confirming_events(definition)
    stored = {result.goal_id: result for result in record.results}
    people = _people(record, definition)
    adjustments = tuple(
        AdjustmentInfo(a, _confirmed_by(a, signatures, events)) for a in record.adjustments
    )
    return EvaluationReport(
        plan=record.plan,
        created_by=history[0].actor if history else "",
        as_of=as_of,
        labels=_labels(definition),
        people=people,
        names=_names(session, history, people),
        evidence=record.evidence,
        problems=record.problems,
        goals=tuple(GoalInfo(goal, _result(goal, stored.get(goal.id))) for goal in record.goals),
        milestones=tuple(_milestone(m, adjustments, as_of.date()) for m in record.milestones),
        actions=tuple(_action(action) for action in record.actions),
        adjustments=adjustments,
        signatures=signatures,
        progress_reports=record.progress_reports,
        coaching_sessions=record.coaching_sessions,
        timeline=history,
        audit=_audit(record, history),
        evaluation=record.evaluation,
        **_cadences(record, definition, as_of.date()),
    )


def _cadences(record: PlanRecord, definition: CompiledDefinition, as_of: date) -> dict[str, Any]:
    """The tracking figures and the calendar, as the definition's timers set them."""
    timers = definition.spec.timers
    plan = record.plan
    return {
        "reporting": _tracking(
            record, timers.progress_report, plan.report_every, len(record.progress_reports), as_of
        ),
        "coaching": _tracking(
            record, timers.coaching, plan.coaching_every, len(record.coaching_sessions), as_of
        ),
        "calendar": timers.calendar,
    }
