"""Sync at scale: the position of an unfinished pull (`sync_page`) and a deferred link's next attempt.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users_ticket_systems") as batch:
        batch.add_column(sa.Column("sync_page", sa.Text(), nullable=True))
        batch.add_column(sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users_ticket_systems") as batch:
        batch.drop_column("next_sync_at")
        batch.drop_column("sync_page")
