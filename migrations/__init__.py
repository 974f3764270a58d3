"""Alembic environment and revisions for the gateway's schema (see `gateway.core.migrator`)."""
