"""The plan document: what `plan create` reads (YAML or JSON), as pydantic models.

Its format is written down in docs/plan-format.md; Zhang's plan is
docs/examples/zhang.yaml. Every field is bounded by `states.plans.bounds`, the limits the
activities share.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from states.plans.bounds import (
    KEY_LIMIT,
    MAX_ACTIONS,
    MAX_DEPARTMENTS,
    MAX_ENTRIES,
    MAX_GOALS,
    MAX_MEMBERS,
    MAX_MILESTONES,
    MAX_PEOPLE,
    MAX_PERIOD_DAYS,
    Day,
    Name,
    Number,
    ShortText,
    Text,
)

Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=KEY_LIMIT)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
Keys = Annotated[list[Key], Field(max_length=MAX_MEMBERS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonDoc(_Strict):
    key: Key
    name: Name
    email: Email
    locale: Literal["en", "zh-CN"] = "en"
    department: Name | None = None
    manager: Key | None = None


class DepartmentDoc(_Strict):
    name: Name
    head: Key | None = None


class Period(_Strict):
    start: Day
    end: Day

    @model_validator(mode="after")
    def _not_too_long(self) -> Period:
        days = (self.end - self.start).days
        if days > MAX_PERIOD_DAYS:
            raise PydanticCustomError(
                "period_too_long",
                "the period is {days} days, longer than the {most} a plan may run",
                {"days": days, "most": MAX_PERIOD_DAYS},
            )
        return self


class EvidenceDoc(_Strict):
    kind: Literal["kpi", "feedback_360", "output_data", "interview", "other"]
    summary: Text
    source: ShortText = ""


class ProblemDoc(_Strict):
    key: Key
    description: Text
    metric: ShortText = ""
    observed: ShortText = ""
    expected: ShortText = ""
    cause: Literal[
        "skill_gap", "resources", "misunderstood_goals", "motivation", "collaboration", "other"
    ] = "other"


class Diagnosis(_Strict):
    evidence: list[EvidenceDoc] = Field(default_factory=list, max_length=MAX_ENTRIES)
    problems: list[ProblemDoc] = Field(default_factory=list, max_length=MAX_ENTRIES)


class MilestoneDoc(_Strict):
    key: Key
    title: Name
    due: Day
    criterion: Text = ""


class GoalDoc(_Strict):
    key: Key
    title: Name
    metric: Name
    unit: ShortText
    baseline: Number | None = None
    target: Number
    direction: Literal["raise", "lower"]
    deadline: Day
    priority: Annotated[int, Field(ge=1, le=9)] = 1
    source: ShortText = ""
    problem: Key | None = None
    milestones: list[MilestoneDoc] = Field(default_factory=list, max_length=MAX_MILESTONES)


class ResourceDoc(_Strict):
    name: Name
    amount: ShortText = ""
    status: Literal["requested", "approved", "denied"] = "requested"


class ActionDoc(_Strict):
    key: Key
    title: Name
    goal: Key
    executor: Key
    supporter: Key | None = None
    collaborators: Keys = Field(default_factory=list)
    resources: list[ResourceDoc] = Field(default_factory=list, max_length=MAX_MEMBERS)
    starts: Day | None = None
    ends: Day | None = None
    recurrence: ShortText = ""


class PlanDocument(_Strict):
    title: Name
    definition: str = "standard"
    reason: Literal["kpi_below_target", "probation", "team", "role_change", "other"] = (
        "kpi_below_target"
    )
    period: Period
    report_every: ShortText = "P1W"
    coaching_every: ShortText = "P1W"
    departments: list[DepartmentDoc] = Field(default_factory=list, max_length=MAX_DEPARTMENTS)
    people: list[PersonDoc] = Field(default_factory=list, max_length=MAX_PEOPLE)
    roles: dict[Key, Key | Keys] = Field(max_length=MAX_MEMBERS)
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    goals: list[GoalDoc] = Field(default_factory=list, max_length=MAX_GOALS)
    actions: list[ActionDoc] = Field(default_factory=list, max_length=MAX_ACTIONS)

    @field_validator("roles")
    @classmethod
    def _lists(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        return {role: ([v] if isinstance(v, str) else v) for role, v in value.items()}

    def holders(self, role: str) -> list[str]:
        value = self.roles.get(role, [])
        return [value] if isinstance(value, str) else list(value)
