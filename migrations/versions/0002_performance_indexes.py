"""Performance indexes: the seed's seven entry indexes, and those the sync, reports and joins need.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns) in creation order; the first seven are the seed's, by name and column order.
INDEXES: list[tuple[str, str, list[str | sa.TextClause]]] = [
    ("idx_entries_user_day", "entries", ["user_id", sa.text("day DESC")]),
    ("idx_entries_day", "entries", ["day"]),
    ("idx_entries_project", "entries", ["project_id"]),
    ("idx_entries_customer", "entries", ["customer_id"]),
    ("idx_entries_day_start", "entries", [sa.text("day DESC"), sa.text("start DESC")]),
    ("idx_entries_user_project", "entries", ["user_id", "project_id"]),
    ("idx_entries_user_sync", "entries", ["user_id", "synced_to_ticketsystem"]),
    ("idx_entries_worklog", "entries", ["worklog_id"]),
    ("idx_entries_ticket", "entries", ["ticket"]),
    ("idx_entries_activity", "entries", ["activity_id"]),
    ("idx_entries_account", "entries", ["account_id"]),
    ("idx_entries_sync_state", "entries", ["sync_state", "next_sync_at"]),
    ("idx_entry_revisions_entry", "entry_revisions", ["entry_id", "created_at"]),
    ("idx_sync_runs_link_started", "sync_runs", ["link_id", "started_at"]),
    ("idx_sync_runs_unfinished", "sync_runs", ["finished_at", "started_at"]),
    ("idx_teams_users_user", "teams_users", ["user_id"]),
    ("idx_teams_customers_customer", "teams_customers", ["customer_id"]),
    ("idx_contracts_user_start", "contracts", ["user_id", "start"]),
    ("idx_api_tokens_user", "api_tokens", ["user_id"]),
    ("idx_projects_ticket_system", "projects", ["ticket_system_id"]),
    ("idx_users_ticket_systems_ticket_system", "users_ticket_systems", ["ticket_system_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
