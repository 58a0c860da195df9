"""The shape of a workflow definition file, as pydantic models, and the effects a
transition may start.

The schema says what fields exist and what types they have; the structural
rules between them (known states, reachability, ...) are in `rules`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

LOCALES = ("en", "zh-CN")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Label = dict[str, str]


class Effect(StrEnum):
    """What a change starts once it commits (a transition's `flows`, and the engine's own),
    carried out by the clockwork from the outbox; the value is what an outbox row stores."""

    ANNOUNCE = "announce"
    REQUEST_SIGNATURES = "request_signatures"
    SCHEDULE_FOLLOWUPS = "schedule_followups"
    EVALUATION_REPORT = "evaluation_report"
    # The engine's own, after a chain's last signature: render the round's signed copy.
    ARCHIVE_COPY = "archive_copy"


class RoleSpec(_Strict):
    label: Label
    required: bool = False
    many: bool = False
    # A role filled from the organisation instead of the plan document.
    derived: str | None = None


class StateSpec(_Strict):
    label: Label
    initial: bool = False
    final: bool = False
    # What may be recorded while a plan is in this state (see ACTIVITIES).
    allows: list[str] = Field(default_factory=list)


class InputSpec(_Strict):
    required: bool = False
    choices: list[str] | None = None
    label: Label | None = None


class Announcement(_Strict):
    """The message a transition sends (one of ANNOUNCEMENTS) and the roles it goes to."""

    message: str
    to: Annotated[list[str], Field(min_length=1)]


class TransitionSpec(_Strict):
    trigger: str
    source: list[str]
    dest: str
    label: Label | None = None
    roles: list[str] = Field(default_factory=list)
    approval: str | None = None
    guards: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    flows: list[str] = Field(default_factory=list)  # Effect values, checked by the rules
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    # None: what `announcements.compatible_announcement` gives, if anything.
    announce: Announcement | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class ChainStep(_Strict):
    roles: Annotated[list[str], Field(min_length=1)]
    # Signatures needed from distinct people; None means one for every role.
    quorum: Annotated[int, Field(le=MAX_QUORUM)] | None = None


class ApprovalChain(_Strict):
    steps: Annotated[list[ChainStep], Field(min_length=1)]
    # role -> other roles whose holders may sign in its place
    may_sign_for: dict[str, list[str]] = Field(default_factory=dict)


class Rung(_Strict):
    after: str
    notify: Annotated[list[str], Field(min_length=1)]


class Cadence(_Strict):
    every: str
    remind_before: str | None = None


# What a coaching talk was before a definition could say it: 15 minutes with the manager.
COACHING_MINUTES = 15
COACHING_COACH = "manager"


class Coaching(Cadence):
    """The coaching talks' cadence, how long a talk takes and whose it is to hold (a role
    of the definition); unset, 15 minutes with the manager."""

    minutes: Annotated[int, Field(ge=1, le=600)] | None = None
    coach: str | None = None

    @property
    def talk_minutes(self) -> int:
        return self.minutes or COACHING_MINUTES

    @property
    def coach_role(self) -> str:
        return self.coach or COACHING_COACH


# Who may do each activity when a definition's `activities:` does not say: what every
# definition meant before it could say it (the standard ones rely on it).
DEFAULT_ACTIVITY_ROLES: dict[str, tuple[str, ...]] = {
    "edit_plan": ("manager", "hr"),
    "adjust": ("manager", "employee"),
    "report_progress": ("employee",),
    "record_coaching": ("manager", "mentor"),
    "measure": ("manager", "hr"),
    "complete_milestone": ("manager",),
}


class Timers(_Strict):
    calendar: str = "CN"
    progress_report: Cadence | None = None
    coaching: Coaching | None = None
    milestone_due_soon: str | None = None
    signature_pending: str | None = None
    escalation: dict[str, list[Rung]] = Field(default_factory=dict)


# A version counts a definition's edits one at a time; far fewer than this, and it fits
# every database's integer column (PostgreSQL's is 32 bits).
MAX_VERSION = 100_000
# Signatures one step may ask for: a plan names at most 20 holders of a role.
MAX_QUORUM = 20


class DefinitionSpec(_Strict):
    name: str
    version: Annotated[int, Field(ge=1, le=MAX_VERSION)]
    title: Label
    description: str = ""
    roles: dict[str, RoleSpec]
    states: dict[str, StateSpec]
    transitions: list[TransitionSpec]
    approval_chains: dict[str, ApprovalChain] = Field(default_factory=dict)
    timers: Timers = Field(default_factory=Timers)
    # activity -> the roles that may do it (where a state allows it); an activity left
    # out keeps its default (`states.engine.registry.ACTIVITY_ROLES`).
    activities: dict[str, Annotated[list[str], Field(min_length=1)]] = Field(default_factory=dict)

    def activity_roles(self, activity: str) -> tuple[str, ...]:
        """Who may do `activity`: the definition's `activities:`, else the default."""
        named = self.activities.get(activity)
        return tuple(named) if named else DEFAULT_ACTIVITY_ROLES.get(activity, ())
