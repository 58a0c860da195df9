"""signed copies: the plan as each round of signatures agreed it, in HTML and PDF

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString()
    op.create_table(
        "signed_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("event", text, nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("content_digest", text, nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("sealed_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("html", sa.LargeBinary(), nullable=True),
        sa.Column("html_sha256", text, nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", text, nullable=False),
        sa.Column("rendered_at", models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "number"),
    )
    op.create_index("ix_signed_copy_plan_id", "signed_copy", ["plan_id"])
    op.create_index("ix_signed_copy_content_digest", "signed_copy", ["content_digest"])


def downgrade() -> None:
    op.drop_index("ix_signed_copy_content_digest", table_name="signed_copy")
    op.drop_index("ix_signed_copy_plan_id", table_name="signed_copy")
    op.drop_table("signed_copy")
