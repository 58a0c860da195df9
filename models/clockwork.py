"""What the clockwork did, and when: one row per sweep, delivery and verification run,
with its figures, so that whoever operates perfplan can see it is alive
(`perfplan status`, the admin page, `/metrics`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class ClockworkRun(SQLModel, table=True):
    """One run: its kind (sweep | deliver | verify), when it ran (real time) and for which
    instant (a sweep `as_of`), whether it went well, and what it counted."""

    __tablename__ = "clockwork_run"
    __table_args__ = (Index("ix_clockwork_run_kind_finished", "kind", "finished_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    finished_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    as_of: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ok: bool = True
    figures: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
