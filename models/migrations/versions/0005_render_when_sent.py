"""render when sent: a notification keeps its template context; rendered_at says when
its text was rendered and stored (rows recorded before this revision were rendered
when they were recorded)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rendered_at", models.types.UTCDateTime(), nullable=True))
    # Older rows hold their text already: they must be sent as stored, never re-rendered.
    op.execute("UPDATE notification SET rendered_at = created_at WHERE rendered_at IS NULL")


def downgrade() -> None:
    # Messages not rendered yet have no text, and the older code cannot render them:
    # they stay in the ledger as dead letters rather than go out empty.
    op.execute(
        "UPDATE notification SET status = 'dead', dead_at = created_at, claimed_until = NULL, "
        "last_error = 'not rendered before the downgrade to 0004' "
        "WHERE rendered_at IS NULL AND status = 'queued'"
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("rendered_at")
        batch_op.drop_column("context")
