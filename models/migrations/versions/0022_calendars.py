"""calendars: the invitation a notification carries, and people's private feed tokens

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-04 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0022"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("calendar", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_calendar_feed_person_id", "calendar_feed", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_calendar_feed_person_id", table_name="calendar_feed")
    op.drop_table("calendar_feed")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("calendar")
