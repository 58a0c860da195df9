"""Installed workflow definition versions. A plan keeps the exact source it
started with, so editing a YAML file never changes a running plan's rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class DefinitionVersion(SQLModel, table=True):
    """The source text of one definition version, addressed by its content hash."""

    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: int
    hash: str = Field(unique=True)
    source: str = Field(sa_column=Column(Text, nullable=False))
    installed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
