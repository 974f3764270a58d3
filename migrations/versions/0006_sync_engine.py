"""Sync engine: link leases, conflicting remote versions, unmapped worklogs, the import activity.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unmapped_worklogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("worklog_id", sa.String(length=128), nullable=False),
        sa.Column("ticket", sa.String(length=128), nullable=False),
        sa.Column("worklog", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["users_ticket_systems.id"],
            name=op.f("fk_unmapped_worklogs_link_id_users_ticket_systems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmapped_worklogs")),
        sa.UniqueConstraint("link_id", "worklog_id", name=op.f("uq_unmapped_worklogs_link_id_worklog_id")),
    )
    # Batch mode: SQLite adds a foreign key only by rebuilding the table.
    with op.batch_alter_table("ticket_systems") as batch:
        batch.add_column(sa.Column("import_activity_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_ticket_systems_import_activity_id_activities"),
            "activities",
            ["import_activity_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column("users_ticket_systems", sa.Column("sync_lease_owner", sa.String(length=64), nullable=True))
    op.add_column("users_ticket_systems", sa.Column("sync_lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "worklog_sync_states",
        sa.Column(
            "conflict_remote",
            JSON,
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("worklog_sync_states", "conflict_remote")
    op.drop_column("users_ticket_systems", "sync_lease_until")
    op.drop_column("users_ticket_systems", "sync_lease_owner")
    with op.batch_alter_table("ticket_systems") as batch:
        batch.drop_constraint(op.f("fk_ticket_systems_import_activity_id_activities"), type_="foreignkey")
        batch.drop_column("import_activity_id")
    op.drop_table("unmapped_worklogs")
