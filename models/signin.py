"""Failed sign-ins, counted per account and per client address, so that guessing
passwords is throttled across every worker and every restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class SignInThrottle(SQLModel, table=True):
    """One account (the SHA-256 of the name typed, known or not) or one client address:
    attempts counted in the current window (those being checked included), when it is
    locked until, and how many lockouts came in a row (each one lasts twice as long)."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (
        PrimaryKeyConstraint("scope", "key"),
        Index("ix_sign_in_throttle_last_attempt", "last_attempt_at"),
    )

    scope: str  # account | address
    key: str
    attempts: int = 0
    window_started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    lockouts: int = 0
