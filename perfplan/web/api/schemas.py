"""The API's response bodies: what the OpenAPI document promises it answers. (What a
change of a plan takes is declared once for every door: `perfplan.activities`.)

Responses are built from the services' plain rows; fields a row has beyond the
model are left out, so nothing internal leaks by accident."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Row(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)


# Plans ------------------------------------------------------------------------


class PlanSummary(Row):
    id: int
    title: str
    state: str
    version: int
    definition: str
    definition_version: int
    period_start: date
    period_end: date
    updated_at: datetime
    employee: str
    employee_name: str
    department: str | None
    overdue_milestones: int
    next_due: date | None


class PlanList(BaseModel):
    plans: list[PlanSummary]
    limit: int
    offset: int


class OverdueMilestone(Row):
    plan_id: int
    title: str
    state: str
    employee: str
    employee_name: str
    department: str | None
    milestone: str
    milestone_title: str
    due: date
    days_late: int


class PlanRow(Row):
    id: int
    title: str
    reason: str
    definition_name: str
    definition_version: int
    definition_hash: str
    state: str
    version: int
    period_start: date
    period_end: date
    report_every: str
    coaching_every: str
    content_digest: str
    audit_seq: int
    created_at: datetime
    updated_at: datetime


class PlanPerson(Row):
    role: str
    key: str
    name: str
    email: str
    locale: str


class EvidenceRow(Row):
    kind: str
    summary: str
    source: str


class ProblemRow(Row):
    key: str
    description: str
    metric: str
    observed: str
    expected: str
    cause: str


class MilestoneRow(Row):
    key: str
    title: str
    due: date
    criterion: str
    status: str
    done_at: datetime | None


class GoalRow(Row):
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
    actual: float | None
    milestones: list[MilestoneRow]


class ActionRow(Row):
    key: str
    title: str
    starts: date | None
    ends: date | None
    recurrence: str


class SignatureRow(Row):
    event: str
    step: int
    role: str
    person: str
    signed_at: datetime
    comment: str
    content_digest: str


class AdjustmentRow(Row):
    id: int
    target_kind: str
    target_key: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    proposed_at: datetime
    status: str
    confirmed_at: datetime | None


class EvaluationRow(Row):
    outcome: str
    feedback: str
    lessons: str
    evaluated_at: datetime


class GoalResultRow(Row):
    goal_id: int
    actual: float
    attainment: float
    met: bool
    measured_on: date | None


class NextEvent(Row):
    event: str
    to: str
    roles: list[str]
    approval: str | None
    waiting_for: list[str] = []


class PlanDetail(Row):
    plan: PlanRow
    people: list[PlanPerson]
    evidence: list[EvidenceRow]
    problems: list[ProblemRow]
    goals: list[GoalRow]
    actions: list[ActionRow]
    signatures: list[SignatureRow]
    adjustments: list[AdjustmentRow]
    progress_reports: int
    evaluation: EvaluationRow | None
    results: list[GoalResultRow]
    next_events: list[NextEvent]


class Created(BaseModel):
    plan_id: int
    title: str
    state: str


class Transitioned(Row):
    plan_id: int
    event: str
    from_state: str
    to_state: str
    version: int
    seq: int


class SignedAnswer(BaseModel):
    plan_id: int
    event: str
    role: str
    step: int
    waiting_for: list[str]
    fired: Transitioned | None


class Recorded(BaseModel):
    plan_id: int
    id: int | None = Field(description="The new record's id (none for a milestone done).")
    version: int = Field(description="The plan's version after the change.")


# Audit ------------------------------------------------------------------------


class AuditEntry(Row):
    plan_id: int
    seq: int
    kind: str
    event: str
    from_state: str
    to_state: str
    actor: str
    role: str
    at: datetime
    comment: str
    definition_hash: str
    content_digest: str
    prev_hash: str
    hash: str


AUDIT_FIELDS = list(AuditEntry.model_fields)


class AuditPage(BaseModel):
    records: list[AuditEntry]
    limit: int
    offset: int


class BreakRow(Row):
    plan_id: int
    seq: int
    record_id: int | None
    problem: str


class Verified(BaseModel):
    ok: bool
    plans: int
    records: int
    breaks: list[BreakRow]


# Definitions ------------------------------------------------------------------


class ProblemEntry(Row):
    code: str
    path: str
    line: int | None
    message: str


class DefinitionEntry(Row):
    name: str
    title: dict[str, str]
    version: int | None = Field(description="The version new plans get (none: installed only).")
    origin: str = Field(description="custom, builtin, or empty when only installed.")
    installed: list[int] = Field(description="Versions recorded in the database.")
    problems: list[ProblemEntry] = Field(description="Why the file cannot be used, if so.")


class DefinitionDetail(Row):
    name: str
    version: int
    hash: str
    title: dict[str, str]
    description: str
    initial: str
    roles: dict[str, dict[str, Any]]
    states: dict[str, dict[str, Any]]
    transitions: list[dict[str, Any]]
    approval_chains: dict[str, dict[str, Any]]
    source: str


class CheckResult(BaseModel):
    valid: bool
    name: str | None
    version: int | None
    hash: str | None
    problems: list[ProblemEntry]


class InstalledDefinition(BaseModel):
    name: str
    version: int
    hash: str


class Diagram(BaseModel):
    definition: str
    version: int
    highlight: str | None
    mermaid: str


# Notifications ----------------------------------------------------------------


class AttemptRow(Row):
    number: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str


class LedgerMessage(Row):
    id: int
    kind: str
    role: str
    person: str
    channel: str
    locale: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    dead_at: datetime | None
    last_error: str
    tries: list[AttemptRow]


class DeadLetter(Row):
    id: int
    kind: str
    plan_id: int | None
    role: str
    channel: str
    locale: str
    subject: str
    attempts: int
    created_at: datetime
    dead_at: datetime | None
    last_error: str


class Requeued(BaseModel):
    requeued: int
