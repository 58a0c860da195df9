"""Private calendar feeds: a person's secret address for the ICS feed of their plans.

Only the SHA-256 of the token is kept, as for API tokens; a revoked feed keeps its row
(`revoked_at`) so that the person's page can say when it was revoked. Holds no plan
content: the feed is built from the plans on each request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class CalendarFeed(SQLModel, table=True):
    """One feed address of one person; at most one is live (not revoked) at a time."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
