"""The fast path of reports and webhooks.

- `idx_entries_project_day (project_id, day)`: the time report of a project reads that project's days instead of
  all its entries (a year of a project read every year of it before).
- Webhook deliveries keep their events until the webhook job has handled them (`events`, `processed_at`), and
  `idx_webhook_deliveries_pending` finds those still to handle. Deliveries recorded before count as handled.

Indexes are built CONCURRENTLY on PostgreSQL, so entries can still be booked while they build.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("processed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("events", sa.Text(), nullable=True))
        batch.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE webhook_deliveries SET processed_at = received_at")
    if op.get_bind().dialect.name == "postgresql":
        # CREATE INDEX CONCURRENTLY cannot run inside a transaction; an interrupted build leaves an invalid index
        # behind, which a plain IF NOT EXISTS would keep: drop it first.
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS idx_entries_project_day")
            op.create_index("idx_entries_project_day", "entries", ["project_id", "day"], postgresql_concurrently=True)
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS idx_webhook_deliveries_pending")
            op.create_index(
                "idx_webhook_deliveries_pending",
                "webhook_deliveries",
                ["ticket_system_id", "id"],
                postgresql_where=PENDING,
                postgresql_concurrently=True,
            )
    else:
        op.create_index("idx_entries_project_day", "entries", ["project_id", "day"])
        op.create_index(
            "idx_webhook_deliveries_pending", "webhook_deliveries", ["ticket_system_id", "id"], sqlite_where=PENDING
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(
                "idx_webhook_deliveries_pending", table_name="webhook_deliveries", postgresql_concurrently=True
            )
            op.drop_index("idx_entries_project_day", table_name="entries", postgresql_concurrently=True)
    else:
        op.drop_index("idx_webhook_deliveries_pending", table_name="webhook_deliveries")
        op.drop_index("idx_entries_project_day", table_name="entries")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("processed_at")
        batch.drop_column("events")
