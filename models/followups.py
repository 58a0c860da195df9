"""Follow-up timers: when a reminder or an escalation of a plan falls due.

The sweep reads only timers whose time has come (one indexed range query),
so a sweep with nothing due costs the same with 100 plans or 100,000.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Followup(SQLModel, table=True):
    """One reminder or escalation level, due at `due_at`, valid while the plan stays
    in the epoch it was scheduled in (any transition reschedules)."""

    __table_args__ = (Index("ix_followup_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    dedup_key: str
    plan_id: int = Field(foreign_key="plan.id", index=True)
    kind: str
    subject: str = ""  # milestone key, chain event, ...
    level: int = 0
    epoch: int
    subject_due: date | None = None  # the date it was computed from (a milestone's due)
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = "pending"  # pending | sent | skipped | cancelled
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    fired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
