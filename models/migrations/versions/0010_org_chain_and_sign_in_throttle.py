"""the organisation's audit chain (append-only, with its tip) and sign-in throttling

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64

# Frozen copies of models/chain.py's append-only triggers for org_audit_record.
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS org_audit_record_no_update BEFORE UPDATE ON org_audit_record
       BEGIN SELECT RAISE(ABORT, 'org_audit_record is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS org_audit_record_no_delete BEFORE DELETE ON org_audit_record
       BEGIN SELECT RAISE(ABORT, 'org_audit_record is append-only: DELETE refused'); END""",
]
_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION org_audit_record_append_only() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'org_audit_record is append-only: % refused', TG_OP;
       END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER org_audit_record_append_only
       BEFORE UPDATE OR DELETE OR TRUNCATE ON org_audit_record
       FOR EACH STATEMENT EXECUTE FUNCTION org_audit_record_append_only()""",
]
APPEND_ONLY_SQL = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}


def _text() -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table(
        "org_audit_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", _text(), nullable=False),
        sa.Column("subject", _text(), nullable=False),
        sa.Column("detail", _text(), nullable=False),
        sa.Column("actor", _text(), nullable=False),
        sa.Column("channel", _text(), nullable=False),
        sa.Column("at", models.types.UTCDateTime(), nullable=False),
        sa.Column("prev_hash", _text(), nullable=False),
        sa.Column("hash", _text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
        sa.UniqueConstraint("seq"),
    )
    tip = op.create_table(
        "org_audit_tip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", _text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(tip, [{"id": 1, "seq": 0, "head": GENESIS_HASH}])
    op.create_table(
        "sign_in_throttle",
        sa.Column("scope", _text(), nullable=False),
        sa.Column("key", _text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("locked_until", models.types.UTCDateTime(), nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index("ix_sign_in_throttle_last_attempt", "sign_in_throttle", ["last_attempt_at"])
    for statement in APPEND_ONLY_SQL.get(op.get_bind().dialect.name, []):
        op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS org_audit_record_append_only() CASCADE")
    op.drop_index("ix_sign_in_throttle_last_attempt", table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_table("org_audit_tip")
    op.drop_table("org_audit_record")
