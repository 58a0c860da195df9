"""The plan activities, each declared once: what it takes (a pydantic model, with the
limits of `states.plans.bounds`), the service it calls, and what it answers.

The API's routes, the plan page's forms and the `perfplan plan` commands all parse
their input into an activity's model (`Activity.parse`) and call `Activity.perform`,
so no door accepts what another refuses:

    activity             takes                 calls                               answers
    fire                 FireRequest + event   states.engine.firing.fire           transitioned
    sign                 SignRequest           states.engine.signing.sign          signed
    report_progress      ProgressRequest       states.plans.activities.…           recorded
    record_coaching      CoachingRequest       states.plans.activities.…           recorded
    measure              MeasurementRequest    states.plans.activities.…           recorded
    complete_milestone   MilestoneDoneRequest  states.plans.activities.…           recorded
                         + milestone
    adjust               AdjustmentRequest     states.plans.activities.adjust      recorded
    confirm_adjustments  ConfirmRequest        states.plans.operations.…           signed
    evaluate             EvaluateRequest       states.plans.operations.evaluate    transitioned

A model's fields are its service's keyword arguments; the key (`event`, `milestone`)
is the input the API takes from the path. The models keep the names the OpenAPI
document gives the request bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Session

from perfplan.inputs import Comment, ExpectedVersion, refusal
from states.engine import firing, signing
from states.plans import activities as records
from states.plans import operations
from states.plans.bounds import Day, Minutes, Name, Number, RequiredText, Text

# What an activity answers: the transition it fired, the signature it recorded (and the
# transition a last signature fired), or the record it made.
Answer = Literal["transitioned", "signed", "recorded"]


class Inputs(BaseModel):
    """What an activity takes; anything else sent is refused."""

    model_config = ConfigDict(extra="forbid")


class FireRequest(Inputs):
    comment: Text | None = Comment
    inputs: dict[Name, Text] = Field(default_factory=dict, description="What the event takes.")
    expected_version: int | None = ExpectedVersion


class SignRequest(Inputs):
    event: Name | None = Field(default=None, description="Which approval, when several wait.")
    comment: Text | None = Comment
    expected_version: int | None = ExpectedVersion


class ConfirmRequest(Inputs):
    comment: Text | None = Comment
    expected_version: int | None = ExpectedVersion


class ProgressRequest(Inputs):
    summary: RequiredText
    blockers: Text = ""
    expected_version: int | None = ExpectedVersion


class CoachingRequest(Inputs):
    notes: Text = ""
    minutes: Minutes = 15
    expected_version: int | None = ExpectedVersion


class MeasurementRequest(Inputs):
    goal: Name
    value: Number
    measured_on: Day | None = None
    source: Text = ""
    note: Text = ""
    expected_version: int | None = ExpectedVersion


class MilestoneDoneRequest(Inputs):
    comment: Text = ""
    expected_version: int | None = ExpectedVersion


class AdjustmentRequest(Inputs):
    kind: Literal["milestone", "action"]
    key: Name
    changes: dict[Name, Text] = Field(
        min_length=1,
        description="milestone: due, title, criterion; action: title, starts, "
        "ends, recurrence, supporter",
    )
    reason: RequiredText
    expected_version: int | None = ExpectedVersion

    @field_validator("kind", mode="before")
    @classmethod
    def _goals_stay_fixed(cls, kind: object) -> object:
        if kind == "goal":  # the sentence the service would say, at every door
            raise PydanticCustomError(
                "goal_fixed", "goals stay fixed while a plan runs; adjust its milestones or actions"
            )
        return kind


class EvaluateRequest(Inputs):
    outcome: Literal["successful", "extended", "not_met"]
    feedback: Text = ""
    lessons: Text = ""
    comment: Text | None = Comment
    expected_version: int | None = ExpectedVersion


@dataclass(frozen=True)
class Act:
    """Who does it, to which plan, when; `key` is the event or milestone of an activity
    that takes one."""

    plan_id: int
    actor: str
    now: datetime
    key: str | None = None


Body = TypeVar("Body", bound=Inputs)
_KEY = TypeAdapter(Name)


@dataclass(frozen=True)
class Activity(Generic[Body]):
    """One plan activity: its name (the service's), the model it takes, the service it
    calls and the kind of answer that gives."""

    name: str
    body: type[Body]
    service: Callable[..., Any]
    answer: Answer
    notice: str  # what the pages say when it is done (`notice.<notice>` in their words)
    key: str | None = None  # the input the API names in its path: "event", "milestone"
    fires: bool = False  # may fire a transition, whose effects run after the commit

    def parse(
        self,
        fields: Mapping[str, object],
        *,
        key: str | None = None,
        called: Mapping[str, str] | None = None,
    ) -> Body:
        """`fields` (and the key, for an activity that takes one) checked against the
        activity's model; InvalidInput names the first field refused."""
        if self.key is not None:
            try:
                _KEY.validate_python(key)
            except ValidationError as error:
                raise refusal(error, at=(self.key,)) from None
        try:
            return self.body.model_validate(fields)
        except ValidationError as error:
            raise refusal(error, called) from None

    def perform(self, session: Session, act: Act, body: Body) -> Any:
        """Call the service in the caller's transaction; it answers as `answer` says."""
        keyed = {self.key: act.key} if self.key else {}
        return self.service(
            session=session,
            plan_id=act.plan_id,
            actor=act.actor,
            now=act.now,
            **keyed,
            **dict(body),
        )


ACTIVITIES: dict[str, Activity[Any]] = {
    activity.name: activity
    for activity in (
        Activity("fire", FireRequest, firing.fire, "transitioned", "fired", "event", fires=True),
        Activity("sign", SignRequest, signing.sign, "signed", "signed", fires=True),
        Activity(
            "report_progress", ProgressRequest, records.report_progress, "recorded", "progress"
        ),
        Activity(
            "record_coaching", CoachingRequest, records.record_coaching, "recorded", "coaching"
        ),
        Activity("measure", MeasurementRequest, records.measure, "recorded", "measured"),
        Activity(
            "complete_milestone",
            MilestoneDoneRequest,
            records.complete_milestone,
            "recorded",
            "milestone",
            key="milestone",
        ),
        Activity("adjust", AdjustmentRequest, records.adjust, "recorded", "adjusted", fires=True),
        Activity(
            "confirm_adjustments",
            ConfirmRequest,
            operations.confirm_adjustments,
            "signed",
            "signed",
            fires=True,
        ),
        Activity(
            "evaluate", EvaluateRequest, operations.evaluate, "transitioned", "fired", fires=True
        ),
    )
}
