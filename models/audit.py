"""The audit trail: append-only, hash-chained records of everything done to a plan.

The database itself refuses UPDATE and DELETE on `audit_record` (triggers
installed with the schema), and every record carries the hash of the one
before it, so an edit made behind the triggers' back is still detected.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import DDL, Column, Table, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class AuditRecord(SQLModel, table=True):
    """One link of a plan's chain: a transition, a signature or a recorded fact."""

    __tablename__ = "audit_record"
    # (plan_id, seq) is the one index by plan: every lookup of a plan's records uses it.
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    seq: int
    kind: str  # transition | signature | record
    event: str
    from_state: str
    to_state: str
    actor: str  # person key, or "system" for flows
    role: str
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    comment: str = ""
    definition_hash: str
    content_digest: str
    prev_hash: str
    hash: str = Field(unique=True)


# The statements that make audit_record append-only, per dialect; used by
# create_all below and by the migrations.
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record
       BEGIN SELECT RAISE(ABORT, 'audit_record is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record
       BEGIN SELECT RAISE(ABORT, 'audit_record is append-only: DELETE refused'); END""",
]

_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'audit_record is append-only: % refused', TG_OP;
       END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER audit_record_append_only
       BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_record
       FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only()""",
]

APPEND_ONLY_SQL: dict[str, list[str]] = {
    "sqlite": _SQLITE_TRIGGERS,
    "postgresql": _POSTGRES_TRIGGERS,
}

_TABLE = cast(Table, AuditRecord.__table__)  # type: ignore[attr-defined]
for _dialect, _statements in APPEND_ONLY_SQL.items():
    for _sql in _statements:
        # DDL() formats its text with %-placeholders: escape PL/pgSQL's own %.
        _ddl = DDL(_sql.replace("%", "%%")).execute_if(dialect=_dialect)  # type: ignore[no-untyped-call]
        event.listen(_TABLE, "after_create", _ddl)
