"""clockwork runs: one row per sweep, delivery and verification, with its figures

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clockwork_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("as_of", models.types.UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_clockwork_run_kind_finished", "clockwork_run", ["kind", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_clockwork_run_kind_finished", table_name="clockwork_run")
    op.drop_table("clockwork_run")
