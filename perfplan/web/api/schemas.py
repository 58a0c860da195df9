"""The API's response bodies: what the OpenAPI document promises it answers. (What a
change of a plan takes is declared once for every door: `perfplan.activities`.)

Responses are built from the services' plain rows; fields a row has beyond the
model are left out, so nothing internal leaks by accident."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from states.engine.firing import Fired
from views.dashboards import OverdueMilestone as OverdueRow
from views.lists import PlanSummary as SummaryRow
from views.record import AuditLine
from views.record import PlanRow as StoredPlan


class Row(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)


def mirror(row: type, *, without: tuple[str, ...] = ()) -> type[Row]:
    """A response body with the fields of a row of the read side (or of a service's
    answer), in their order, but those `without`: what the API gives is what the read
    side reads, declared once."""
    hints = get_type_hints(row)
    fields: dict[str, Any] = {name: (hint, ...) for name, hint in hints.items()}
    kept = {name: spec for name, spec in fields.items() if name not in without}
    return create_model(f"{row.__name__}Fields", __base__=Row, **kept)


# Plans ------------------------------------------------------------------------


class PlanSummary(mirror(SummaryRow, without=("definition_hash", "roles"))):  # type: ignore[misc]
    """One plan of a list."""


class PlanList(BaseModel):
    plans: list[PlanSummary]
    limit: int
    offset: int


class OverdueMilestone(mirror(OverdueRow)):  # type: ignore[misc]
    """A milestone past due on a running plan."""


class PlanRow(mirror(StoredPlan, without=("epoch", "audit_head"))):  # type: ignore[misc]
    """The plan's own row."""


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


class Transitioned(mirror(Fired, without=("flows",))):  # type: ignore[misc]
    """A transition that happened."""


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


class AuditEntry(mirror(AuditLine, without=("id",))):  # type: ignore[misc]
    """One record of a plan's hash-chained history."""


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
