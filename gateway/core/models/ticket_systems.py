"""Ticket systems, users' links to them, and the ticket cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.core.models.base import Base, SoftDeleteMixin, TimestampMixin, json_column, utcnow


class TicketSystem(TimestampMixin, SoftDeleteMixin, Base):
    """One installation of a tracker (a Jira site, a GitLab instance, a Redmine) served by a connector."""

    __tablename__ = "ticket_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    # The name of the connector that speaks to it (a plugin's declared name, e.g. "jira").
    type: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(512))
    # Link to a ticket in the tracker's web UI, with {key} in place of the ticket key.
    ticket_url: Mapped[str | None] = mapped_column(String(512), default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Whether entries on its projects are pushed as worklogs (the default; false for a system that only checks
    # tickets and keeps its ticket cache).
    book_time: Mapped[bool] = mapped_column(default=True)
    # The connector's settings, validated against its config struct.
    config: Mapped[dict[str, Any]] = mapped_column(json_column(), default=dict)
    # App-level secrets (OAuth client secret, private key, webhook secret): a JSON object, encrypted by the vault.
    secrets: Mapped[str | None] = mapped_column(Text, default=None)
    # The activity given to worklogs imported from the tracker (made there, not through the gateway).
    import_activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), default=None
    )
    # When the ticket cache last read the tracker's changed tickets (connectors with CHANGED_TICKETS).
    tickets_read_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"TicketSystem(id={self.id!r}, name={self.name!r}, type={self.type!r})"


class Link(TimestampMixin, Base):
    """A link: one user's connection to one ticket system, with that user's encrypted credentials."""

    __tablename__ = "users_ticket_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_system_id: Mapped[int] = mapped_column(ForeignKey("ticket_systems.id", ondelete="CASCADE"))
    # Set by an admin; a disabled link keeps its history but is never synced.
    enabled: Mapped[bool] = mapped_column(default=False)
    # The user chose not to connect (the original's "avoid connection").
    avoid_connection: Mapped[bool] = mapped_column(default=False)
    # Encrypted by the vault: the access token (or API key), and the refresh token or OAuth 1.0a token secret.
    access_token: Mapped[str | None] = mapped_column(Text, default=None)
    token_secret: Mapped[str | None] = mapped_column(Text, default=None)
    token_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    remote_account_id: Mapped[str | None] = mapped_column(default=None)
    # The tracker-side site of the grant (Jira Cloud's cloud id), see `Credentials.site_id`.
    remote_site_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # The login sent with the API key, where the tracker wants both (Jira Cloud: the e-mail address).
    remote_login: Mapped[str | None] = mapped_column(String(255), default=None)
    # Opaque to core: the connector's position in the tracker's change feed.
    sync_cursor: Mapped[str | None] = mapped_column(Text, default=None)
    # Opaque to core: the position after the last applied page of an unfinished read from `sync_cursor`, so the
    # next run goes on from there (`PullPage.next_page`).
    sync_page: Mapped[str | None] = mapped_column(Text, default=None)
    # When the next attempt is due after a deferred or failed run (None: as the schedule says).
    next_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    last_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Set when the tracker refused the grant (refresh rejected, revoked): the user must connect again.
    needs_reconnect: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The user's time zone in the tracker (IANA name), as the connector reported it when linking.
    remote_timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    # When a sync was last asked for (a webhook, a user, a booking); a run that started before it runs again.
    sync_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who is syncing the link, until when: one sync per link at a time, across workers and processes.
    sync_lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    sync_lease_until: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("user_id", "ticket_system_id"),
        Index("idx_users_ticket_systems_ticket_system", "ticket_system_id"),
    )

    def __repr__(self) -> str:
        return (
            f"Link(id={self.id!r}, user_id={self.user_id!r}, "
            f"ticket_system_id={self.ticket_system_id!r}, enabled={self.enabled!r})"
        )


class OAuthState(Base):
    """An authorisation in progress: the `state` sent to the tracker (hashed), for whom, and the PKCE verifier."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("users_ticket_systems.id", ondelete="CASCADE"))
    # The browser session that started the flow, when it was a browser: the callback must come from it.
    login_session_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # Encrypted by the vault.
    code_verifier: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class WebhookDelivery(Base):
    """A webhook delivery already handled, by the tracker's delivery id: a replay is acknowledged and ignored."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_system_id: Mapped[int] = mapped_column(ForeignKey("ticket_systems.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the delivery said (its events as JSON), kept until the webhook job has handled them.
    events: Mapped[str | None] = mapped_column(Text, default=None)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("ticket_system_id", "delivery_id"),
        # The deliveries the webhook job has still to handle, per system in the order received.
        Index(
            "idx_webhook_deliveries_pending",
            "ticket_system_id",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )


class Ticket(Base):
    """A cached copy of a remote ticket, refreshed by polling and webhooks."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_system_id: Mapped[int] = mapped_column(ForeignKey("ticket_systems.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str | None] = mapped_column(String(128), default=None)
    assignee: Mapped[str | None] = mapped_column(default=None)
    remote_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    raw: Mapped[dict[str, Any]] = mapped_column(json_column(), default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("ticket_system_id", "key"),
        # The autocomplete lists a system's most recently changed tickets first.
        Index("idx_tickets_system_updated", "ticket_system_id", "remote_updated_at"),
    )
