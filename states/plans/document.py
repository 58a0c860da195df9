"""The plan document: what `plan create` reads (YAML or JSON), as pydantic models.

Its format is written down in docs/plan-format.md; Zhang's plan is
docs/examples/zhang.yaml. Every field is bounded by `states.plans.bounds`, the limits the
activities share.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from people.directory import KEY_LENGTH, KEY_PATTERN, is_reserved
from states.definitions.catalog import NAME_RULE, SAFE_NAME
from states.plans.bounds import (
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


def _a_person(key: str) -> str:
    if is_reserved(key):
        raise PydanticCustomError(
            "reserved_key",
            "'{key}' is reserved for perfplan's own automation, not a person's key",
            {"key": key},
        )
    return key


def _a_definition_name(name: str) -> str:
    # Only a name: the catalog looks it up among the installed definitions; a path
    # (`/tmp/x`, `../x`, `x.yaml`, a backslash) would make any file the plan's rules.
    if not SAFE_NAME.match(name):
        raise PydanticCustomError(
            "definition_name",
            "'{name}' is not the name of a definition: {rule}; definitions are installed "
            "by an admin and named here, never read from a path",
            {"name": name[:80], "rule": NAME_RULE},
        )
    return name


# A goal's, milestone's or action's key; and a person's, which is never the automation's.
Key = Annotated[str, Field(pattern=KEY_PATTERN, max_length=KEY_LENGTH)]
PersonKey = Annotated[Key, AfterValidator(_a_person)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
PersonKeys = Annotated[list[PersonKey], Field(max_length=MAX_MEMBERS)]
_KEY_SCHEMA = {"type": "string", "pattern": KEY_PATTERN, "maxLength": KEY_LENGTH}


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


# Who holds a role: one key, or a list of keys for a role that allows many (read as a list,
# so that a refused key is told once, at its place).
Holders = Annotated[
    PersonKeys,
    BeforeValidator(_one_or_many),
    WithJsonSchema(
        {"anyOf": [_KEY_SCHEMA, {"type": "array", "items": _KEY_SCHEMA, "maxItems": MAX_MEMBERS}]}
    ),
]
DefinitionName = Annotated[str, Field(max_length=200), AfterValidator(_a_definition_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonDoc(_Strict):
    key: PersonKey
    name: Name
    email: Email
    locale: Literal["en", "zh-CN"] = "en"
    department: Name | None = None
    manager: PersonKey | None = None


class DepartmentDoc(_Strict):
    name: Name
    head: PersonKey | None = None


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
    executor: PersonKey
    supporter: PersonKey | None = None
    collaborators: PersonKeys = Field(default_factory=list)
    resources: list[ResourceDoc] = Field(default_factory=list, max_length=MAX_MEMBERS)
    starts: Day | None = None
    ends: Day | None = None
    recurrence: ShortText = ""


class PlanDocument(_Strict):
    title: Name
    definition: DefinitionName = "standard"
    # Pins the version the author wrote for: it must be the one new plans get.
    definition_version: Annotated[int, Field(ge=1)] | None = None
    reason: Literal["kpi_below_target", "probation", "team", "role_change", "other"] = (
        "kpi_below_target"
    )
    period: Period
    report_every: ShortText = "P1W"
    coaching_every: ShortText = "P1W"
    departments: list[DepartmentDoc] = Field(default_factory=list, max_length=MAX_DEPARTMENTS)
    people: list[PersonDoc] = Field(default_factory=list, max_length=MAX_PEOPLE)
    roles: dict[Key, Holders] = Field(max_length=MAX_MEMBERS)
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    goals: list[GoalDoc] = Field(default_factory=list, max_length=MAX_GOALS)
    actions: list[ActionDoc] = Field(default_factory=list, max_length=MAX_ACTIONS)

    def holders(self, role: str) -> list[str]:
        value: object = self.roles.get(role, [])  # a copy made without validation may hold one
        return [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
