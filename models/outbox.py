"""Outbox rows: the flows a transition starts, written in the transition's own
transaction and dispatched only after it has committed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class OutboxRow(SQLModel, table=True):
    """One effect to carry out. `key` is unique per effect, so dispatching twice is harmless."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    flow: str
    payload: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default="pending", index=True)  # pending | claimed | done | failed
    attempts: int = 0
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str = ""
