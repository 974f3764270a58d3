"""Linking and webhooks: OAuth states in progress, handled webhook deliveries, and link state columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_system_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_system_id"],
            ["ticket_systems.id"],
            name=op.f("fk_webhook_deliveries_ticket_system_id_ticket_systems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "ticket_system_id", "delivery_id", name=op.f("uq_webhook_deliveries_ticket_system_id_delivery_id")
        ),
    )
    op.create_table(
        "oauth_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("login_session_hash", sa.String(length=64), nullable=True),
        sa.Column("code_verifier", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["users_ticket_systems.id"],
            name=op.f("fk_oauth_states_link_id_users_ticket_systems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    op.add_column(
        "users_ticket_systems",
        sa.Column("needs_reconnect", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("users_ticket_systems", sa.Column("remote_timezone", sa.String(length=64), nullable=True))
    op.add_column("users_ticket_systems", sa.Column("sync_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users_ticket_systems", "sync_requested_at")
    op.drop_column("users_ticket_systems", "remote_timezone")
    op.drop_column("users_ticket_systems", "needs_reconnect")
    op.drop_table("oauth_states")
    op.drop_table("webhook_deliveries")
