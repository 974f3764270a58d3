"""Links remember the tracker-side site of their grant (Jira Cloud's cloud id) and the login sent with a key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users_ticket_systems") as batch:
        batch.add_column(sa.Column("remote_site_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("remote_login", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users_ticket_systems") as batch:
        batch.drop_column("remote_login")
        batch.drop_column("remote_site_id")
