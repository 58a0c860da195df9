"""The API's response bodies: what the OpenAPI document promises it answers. (What a
change of a plan takes is declared once for every door: `perfplan.activities`.)

Responses are built from the services' plain rows; fields a row has beyond the
model are left out, so nothing internal leaks by accident."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from people.orgaudit import OrgRecord
from people.roles import Holder
from states.engine.firing import Fired
from views import record
from views.dashboards import OverdueMilestone as OverdueRow
from views.lists import PlanSummary as SummaryRow
from views.record import AuditLine
from views.record import PlanRow as StoredPlan


class Row(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)


def mirror(
    row: type,
    *,
    only: tuple[str, ...] | None = None,
    without: tuple[str, ...] = (),
    **added: Any,
) -> type[Row]:
    """A response body with the fields of a row of the read side (or of a service's
    answer): `only` those, in that order, or all of them in theirs but those `without`,
    then the `added` ones (name=(type, default)). What the API gives is what the read
    side reads, its types declared once."""
    hints = get_type_hints(row)
    names = only if only is not None else tuple(n for n in hints if n not in without)
    fields: dict[str, Any] = {name: (hints[name], ...) for name in names}
    return create_model(f"{row.__name__}Fields", __base__=Row, **fields, **added)


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


class PlanPerson(mirror(Holder, only=("role", "key", "name", "email", "locale"))):  # type: ignore[misc]
    """Someone the plan names, in the part they hold."""


class EvidenceRow(mirror(record.EvidenceRow, only=("kind", "summary", "source"))):  # type: ignore[misc]
    """A piece of the diagnosis' evidence."""


PROBLEM = ("key", "description", "metric", "observed", "expected", "cause")


class ProblemRow(mirror(record.ProblemRow, only=PROBLEM)):  # type: ignore[misc]
    """A problem the diagnosis found, and its cause."""


MILESTONE = ("key", "title", "due", "criterion", "status", "done_at")


class MilestoneRow(mirror(record.Milestone, only=MILESTONE)):  # type: ignore[misc]
    """A milestone of a goal."""


GOAL = ("key", "title", "metric", "unit", "baseline", "target", "direction", "deadline")
GOAL_ADDED: dict[str, Any] = {
    "actual": (float | None, ...),
    "milestones": (list[MilestoneRow], ...),
}


class GoalRow(mirror(record.Goal, only=(*GOAL, "priority", "source"), **GOAL_ADDED)):  # type: ignore[misc]
    """A SMART goal, its latest measured value, and its milestones."""


class ActionRow(mirror(record.Action, only=("key", "title", "starts", "ends", "recurrence"))):  # type: ignore[misc]
    """An action."""


SIGNATURE = ("event", "step", "role", "person", "signed_at", "comment", "content_digest")


class SignatureRow(mirror(record.SignatureRow, only=SIGNATURE)):  # type: ignore[misc]
    """A signature of an approval chain, and the content it signed."""


ADJUSTMENT = ("id", "target_kind", "target_key", "before", "after", "reason", "proposed_at")


class AdjustmentRow(mirror(record.AdjustmentRow, only=(*ADJUSTMENT, "status", "confirmed_at"))):  # type: ignore[misc]
    """A change of a milestone or an action, and whether it is re-confirmed."""


EVALUATION = ("outcome", "feedback", "lessons", "evaluated_at")


class EvaluationRow(mirror(record.EvaluationRow, only=EVALUATION)):  # type: ignore[misc]
    """The plan's evaluation."""


RESULT = ("goal_id", "actual", "attainment", "met", "measured_on")


class GoalResultRow(mirror(record.GoalResultRow, only=RESULT)):  # type: ignore[misc]
    """A goal's result at evaluation."""


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


class Receipt(BaseModel):
    """What a signer keeps: `perfplan audit receipt` checks it against the chain."""

    format: str
    plan_id: int
    seq: int = Field(description="The signature's record: its position in the plan's chain.")
    record_hash: str = Field(description="That record's hash.")
    content_digest: str = Field(description="The SHA-256 of the plan content signed.")
    person: str
    role: str
    event: str
    signed_at: str


class SignedAnswer(BaseModel):
    plan_id: int
    event: str
    role: str
    step: int
    waiting_for: list[str]
    fired: Transitioned | None
    receipt: Receipt | None = None
    copy_number: int | None = Field(
        default=None, description="The signed copy this signature completed, if it did."
    )


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


class OrgBreakRow(Row):
    seq: int
    record_id: int | None
    problem: str


class OrgVerified(BaseModel):
    """The organisation chain (roles, people, passwords, tokens, definitions, lockouts)."""

    ok: bool
    records: int
    breaks: list[OrgBreakRow]


class Verified(BaseModel):
    ok: bool
    plans: int
    records: int
    breaks: list[BreakRow]
    organisation: OrgVerified | None = Field(
        default=None, description="The organisation chain, when every chain is verified."
    )


class OrgEntry(mirror(OrgRecord, without=("id",))):  # type: ignore[misc]
    """One record of the organisation chain."""


ORG_FIELDS = list(OrgEntry.model_fields)


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
