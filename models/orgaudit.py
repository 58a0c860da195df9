"""The organisation's audit chain: append-only, hash-chained records of what changes
who may do what — standing roles, people, passwords, API tokens, installed definitions
and sign-in lockouts — beside the plans' own chains (`models.audit`).

One chain for the whole organisation: `org_audit_tip` keeps its last position and hash
(so records deleted from the end are caught), and every append takes that row's lock,
so concurrent changes line up one after the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import DDL, Column, Table, event
from sqlmodel import Field, SQLModel

from models.chain import GENESIS_HASH, append_only_sql
from models.types import UTCDateTime


class OrgAuditRecord(SQLModel, table=True):
    """One link of the organisation chain: what kind of change, to whom or what, the
    details that matter, who made it and through which door, and when."""

    __tablename__ = "org_audit_record"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    kind: str  # role.granted | role.revoked | person.created | ... (people.orgaudit.KINDS)
    subject: str  # a person's key, "token 7", "definition pip v2", "address 203.0.113.5"
    detail: str = ""
    actor: str  # a person's key, an operating-system user (cli), or "system"
    channel: str  # cli | web | api | plan document | sign-in
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    prev_hash: str
    hash: str = Field(unique=True)


class OrgAuditTip(SQLModel, table=True):
    """The chain's tip: one row (id 1), its last sequence number and hash."""

    __tablename__ = "org_audit_tip"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    head: str = GENESIS_HASH


ORG_APPEND_ONLY_SQL = append_only_sql("org_audit_record")
# The one tip row exists from the start, so appending never races to create it.
TIP_ROW_SQL = f"INSERT INTO org_audit_tip (id, seq, head) VALUES (1, 0, '{GENESIS_HASH}')"

_RECORDS = cast(Table, OrgAuditRecord.__table__)  # type: ignore[attr-defined]
_TIP = cast(Table, OrgAuditTip.__table__)  # type: ignore[attr-defined]
for _dialect, _statements in ORG_APPEND_ONLY_SQL.items():
    for _sql in _statements:
        _ddl = DDL(_sql.replace("%", "%%")).execute_if(dialect=_dialect)  # type: ignore[no-untyped-call]
        event.listen(_RECORDS, "after_create", _ddl)
event.listen(_TIP, "after_create", DDL(TIP_ROW_SQL))  # type: ignore[no-untyped-call]
