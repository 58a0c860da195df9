"""audit records: no index on plan_id beside the unique (plan_id, seq) that begins with it

Every lookup by plan (a plan's history, its chain, a receipt's record) is served by
the unique (plan_id, seq) index; the second index only cost a B-tree write on every
change of every plan.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-04 15:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_audit_record_plan_id", table_name="audit_record")


def downgrade() -> None:
    op.create_index("ix_audit_record_plan_id", "audit_record", ["plan_id"], unique=False)
