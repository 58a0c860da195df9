"""What a change of a plan knows, and its guards and actions see: a snapshot of the plan,
its definition, the event or activity, and who is acting in which role, when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    from states.definitions.compiled import CompiledDefinition


@dataclass
class PlanSnapshot:
    """The plan row as read at the start of a change; `state` is what the machine moves."""

    id: int
    title: str
    state: str
    version: int
    epoch: int
    definition_name: str
    definition_version: int
    definition_hash: str
    period_start: date
    period_end: date
    report_every: str
    coaching_every: str
    content_digest: str
    audit_seq: int
    audit_head: str

    @classmethod
    def from_row(cls, row: Any) -> PlanSnapshot:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Actor:
    """A person acting on a plan, or the system itself (flows)."""

    id: int | None
    key: str
    name: str


SYSTEM = Actor(id=None, key="system", name="perfplan")


@dataclass
class Context:
    """One change of a plan: passed to every guard and action of a transition, and the
    source of the change's audit entry."""

    session: Session
    plan: PlanSnapshot
    definition: CompiledDefinition
    event: str
    actor: Actor
    role: str
    now: datetime
    inputs: Mapping[str, str] = field(default_factory=dict)
