"""The ticket cache follows trackers' changed tickets: when each ticket system was last read, and an index for
the most recently changed tickets of a system (the autocomplete's order).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_systems") as batch:
        batch.add_column(sa.Column("tickets_read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("idx_tickets_system_updated", "tickets", ["ticket_system_id", "remote_updated_at"])


def downgrade() -> None:
    op.drop_index("idx_tickets_system_updated", table_name="tickets")
    with op.batch_alter_table("ticket_systems") as batch:
        batch.drop_column("tickets_read_at")
