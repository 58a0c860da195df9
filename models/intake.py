"""Files uploaded to import, kept between the preview a person reads and their
confirmation (then deleted): the organisation's CSV from the HR system."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class PendingImport(SQLModel, table=True):
    """One uploaded file: who uploaded it, its name and bytes, and when. Only they may
    confirm it; a day later it is forgotten."""

    __tablename__ = "pending_import"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    source: str  # the file's name, as the records of its changes say
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
