"""Encrypt tokens at rest: widen the token columns to TEXT and encrypt the clear values already stored.

The key ring comes from the environment (GATEWAY_SECRET_KEYS or GATEWAY_SECRET_KEYS_FILE), handed over by
`gateway db upgrade` or read by `migrations/env.py`. A database without stored tokens needs no key; one with
tokens refuses to migrate without a key, before anything is changed. The downgrade decrypts again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from gateway.core.errors import KeyRingError
from gateway.core.vault import KeyRing, is_ciphertext

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_TOKEN_COLUMNS = ("access_token", "token_secret")
OLD_TOKEN_LENGTH = 255
OLD_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

links = sa.table("users_ticket_systems", sa.column("id", sa.Integer), *(sa.column(c) for c in LINK_TOKEN_COLUMNS))
ticket_systems = sa.table("ticket_systems", sa.column("id", sa.Integer), sa.column("secrets", sa.Text))


def upgrade() -> None:
    key_ring = _key_ring_if_needed(lambda value: not is_ciphertext(value), "encrypt the tokens already stored")

    with op.batch_alter_table("users_ticket_systems") as batch:
        for column in LINK_TOKEN_COLUMNS:
            batch.alter_column(column, type_=sa.Text(), existing_type=sa.String(OLD_TOKEN_LENGTH))
    with op.batch_alter_table("ticket_systems") as batch:
        batch.alter_column("secrets", type_=sa.Text(), existing_type=OLD_JSON, postgresql_using="secrets::text")

    if key_ring is not None:
        _rewrite_all(lambda value: value if is_ciphertext(value) else key_ring.encrypt(value))


def downgrade() -> None:
    key_ring = _key_ring_if_needed(is_ciphertext, "decrypt the stored tokens")
    if key_ring is not None:
        _refuse_values_too_long_for_old_columns(key_ring)
        _rewrite_all(lambda value: key_ring.decrypt(value) if is_ciphertext(value) else value)

    with op.batch_alter_table("ticket_systems") as batch:
        batch.alter_column("secrets", type_=OLD_JSON, existing_type=sa.Text(), postgresql_using="secrets::jsonb")
    with op.batch_alter_table("users_ticket_systems") as batch:
        for column in LINK_TOKEN_COLUMNS:
            batch.alter_column(column, type_=sa.String(OLD_TOKEN_LENGTH), existing_type=sa.Text())


def _stored_values() -> list[tuple[sa.TableClause, int, str, str]]:
    """Every non-NULL token and secret as (table, row id, column, value)."""
    bind = op.get_bind()
    found: list[tuple[sa.TableClause, int, str, str]] = []
    for table, columns in ((links, LINK_TOKEN_COLUMNS), (ticket_systems, ("secrets",))):
        for column in columns:
            # CAST keeps the comparison textual while ticket_systems.secrets is still JSON.
            value = sa.cast(table.c[column], sa.Text)
            rows = bind.execute(sa.select(table.c.id, value).where(table.c[column].is_not(None)))
            found.extend((table, row_id, column, text) for row_id, text in rows if text is not None)
    return found


def _key_ring_if_needed(needs_key: Callable[[str], bool], purpose: str) -> KeyRing | None:
    key_ring: KeyRing | None = context.config.attributes.get("key_ring")
    if key_ring is None and any(needs_key(value) for *_, value in _stored_values()):
        raise KeyRingError(
            f"a secret key ring is needed to {purpose}: set GATEWAY_SECRET_KEYS or GATEWAY_SECRET_KEYS_FILE"
        )
    return key_ring


def _rewrite_all(transform: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for table, row_id, column, value in _stored_values():
        new_value = transform(value)
        if new_value != value:
            bind.execute(sa.update(table).where(table.c.id == row_id).values({column: new_value}))


def _refuse_values_too_long_for_old_columns(key_ring: KeyRing) -> None:
    for table, row_id, column, value in _stored_values():
        if table is links and len(key_ring.decrypt(value) if is_ciphertext(value) else value) > OLD_TOKEN_LENGTH:
            raise KeyRingError(
                f"users_ticket_systems row {row_id}: its {column} is longer than {OLD_TOKEN_LENGTH} characters "
                "and would not fit the column before this revision; disconnect that link first"
            )
