"""Who may come in and what they stand for in the organisation: standing roles
(HR for some departments, auditor, admin), passwords, API tokens and web sessions.

Secrets are never stored: tokens and session ids as SHA-256 digests (they are
long random strings), passwords as Argon2 hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class OrgRole(SQLModel, table=True):
    """A standing role beyond any one plan. `hr` covers one department (or, with
    no department, all of them); `auditor` reads everything; `admin` manages
    definitions."""

    __tablename__ = "org_role"
    __table_args__ = (UniqueConstraint("person_id", "role", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str  # hr | auditor | admin
    department_id: int | None = Field(default=None, foreign_key="department.id")
    granted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    granted_by: str = ""


class Credential(SQLModel, table=True):
    """A person's password for the web pages (Argon2id hash)."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    password_hash: str
    changed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ApiToken(SQLModel, table=True):
    """A personal API token; only its digest is kept, and a short prefix to recognise it."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = ""
    prefix: str
    token_hash: str = Field(unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds the id; the row holds its digest and the
    CSRF token that every form of the session must carry."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_expires", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    session_hash: str = Field(unique=True)
    csrf_token: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
