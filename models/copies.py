"""Signed copies: the plan as it was agreed or re-confirmed, kept in the form each party
downloads (HTML and PDF), identified by the digest the round's signatures bind.

A row is sealed in the transaction that completes an approval chain (the canonical
content that was signed, the round's signatures, the names it shows); the clockwork
renders its HTML and PDF from exactly that content afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class SignedCopy(SQLModel, table=True):
    """One archived copy: plan content as signed (`content`, canonical JSON whose SHA-256 is
    `content_digest`), and once rendered its HTML and PDF with their own SHA-256."""

    __tablename__ = "signed_copy"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    number: int  # 1 for the agreement, then one per re-confirmation
    event: str  # the transition the signatures completed (agree, reconfirm, ...)
    epoch: int  # the plan's epoch the signatures were given in
    seq: int  # the audit record of that transition
    content_digest: str = Field(index=True)
    content: str = Field(sa_column=Column(Text, nullable=False))
    signatures: list[dict[str, object]] = Field(sa_column=Column(JSON, nullable=False))
    names: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    sealed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    html: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    html_sha256: str = ""
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    pdf_sha256: str = ""
    rendered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
