"""The plan document: what `plan create` reads (YAML or JSON), as pydantic models.

Its format is written down in docs/plan-format.md; Zhang's plan is
docs/examples/zhang.yaml.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonDoc(_Strict):
    key: Key
    name: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    locale: Literal["en", "zh-CN"] = "en"
    department: str | None = None
    manager: Key | None = None


class DepartmentDoc(_Strict):
    name: str
    head: Key | None = None


class Period(_Strict):
    start: date
    end: date


class EvidenceDoc(_Strict):
    kind: Literal["kpi", "feedback_360", "output_data", "interview", "other"]
    summary: str
    source: str = ""


class ProblemDoc(_Strict):
    key: Key
    description: str
    metric: str = ""
    observed: str = ""
    expected: str = ""
    cause: Literal[
        "skill_gap", "resources", "misunderstood_goals", "motivation", "collaboration", "other"
    ] = "other"


class Diagnosis(_Strict):
    evidence: list[EvidenceDoc] = Field(default_factory=list)
    problems: list[ProblemDoc] = Field(default_factory=list)


class MilestoneDoc(_Strict):
    key: Key
    title: str
    due: date
    criterion: str = ""


class GoalDoc(_Strict):
    key: Key
    title: str
    metric: str
    unit: str
    baseline: float | None = None
    target: float
    direction: Literal["raise", "lower"]
    deadline: date
    priority: Annotated[int, Field(ge=1, le=9)] = 1
    source: str = ""
    problem: Key | None = None
    milestones: list[MilestoneDoc] = Field(default_factory=list)


class ResourceDoc(_Strict):
    name: str
    amount: str = ""
    status: Literal["requested", "approved", "denied"] = "requested"


class ActionDoc(_Strict):
    key: Key
    title: str
    goal: Key
    executor: Key
    supporter: Key | None = None
    collaborators: list[Key] = Field(default_factory=list)
    resources: list[ResourceDoc] = Field(default_factory=list)
    starts: date | None = None
    ends: date | None = None
    recurrence: str = ""


class PlanDocument(_Strict):
    title: str
    definition: str = "standard"
    reason: Literal["kpi_below_target", "probation", "team", "role_change", "other"] = (
        "kpi_below_target"
    )
    period: Period
    report_every: str = "P1W"
    coaching_every: str = "P1W"
    departments: list[DepartmentDoc] = Field(default_factory=list)
    people: list[PersonDoc] = Field(default_factory=list)
    roles: dict[str, Key | list[Key]]
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    goals: list[GoalDoc] = Field(default_factory=list)
    actions: list[ActionDoc] = Field(default_factory=list)

    @field_validator("roles")
    @classmethod
    def _lists(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        return {role: ([v] if isinstance(v, str) else v) for role, v in value.items()}

    def holders(self, role: str) -> list[str]:
        value = self.roles.get(role, [])
        return [value] if isinstance(value, str) else list(value)
