"""The public types a connector plugin works with; connectors import from here and nowhere else in core.

A connector speaks one ticket system's API. It never opens a database session, defines a route or reads
settings: the gateway hands it a `ConnectorContext` (base URL, validated config, app-level secrets, an HTTP
client) and, per call, the link's `Credentials`. Days and wall-clock times are the user's local time; the
connector converts them to and from the tracker's representation, once, at this edge.

Failures leave a connector as the typed errors below, so the sync engine can tell "try later" from "give up".
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, ClassVar

import httpx
import msgspec

from gateway.core.hookspecs import hookimpl

__all__ = [
    "AuthExpired",
    "AuthKind",
    "AuthRevoked",
    "AuthorizationStart",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "Credentials",
    "NoConfig",
    "NotFound",
    "PullPage",
    "RateLimited",
    "Rejected",
    "RemoteAccount",
    "RemoteWorklog",
    "TicketData",
    "Transient",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookEventKind",
    "WorklogDraft",
    "error_for_response",
    "hmac_sha256_hex",
    "hookimpl",
    "retry_after_seconds",
    "same_secret",
]


class AuthKind(StrEnum):
    """How a user connects their account."""

    OAUTH2 = "oauth2"
    OAUTH1 = "oauth1"
    API_KEY = "api_key"
    PERSONAL_TOKEN = "personal_token"


# --- Errors -----------------------------------------------------------------------------------------------------


class ConnectorError(Exception):
    """Base of the errors a connector raises; the message is readable and holds no secret."""


class RateLimited(ConnectorError):
    """The tracker asks to slow down; try again after `retry_after` seconds (None: back off on our own)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthExpired(ConnectorError):
    """The access token is no longer accepted; a refresh may help."""


class AuthRevoked(ConnectorError):
    """The grant is gone (revoked, refresh token rejected): the user must connect again."""


class NotFound(ConnectorError):
    """The ticket or worklog does not exist in the tracker (or is not visible to the user)."""


class Transient(ConnectorError):
    """A failure that may pass: a timeout, a 5xx, a dropped connection."""


class Rejected(ConnectorError):
    """The tracker refused the request itself (validation, permission); retrying the same will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Data -------------------------------------------------------------------------------------------------------


class Credentials(msgspec.Struct, kw_only=True):
    """A link's credentials: an OAuth token pair, an API key, or a personal token (in `access_token`).

    `secret` is the OAuth 2 refresh token or the OAuth 1.0a token secret. The repr never shows either value.
    """

    access_token: str
    secret: str | None = None
    expires_at: datetime | None = None
    account_id: str | None = None
    # The login that goes with an API key where the tracker wants both (Jira Cloud: e-mail address + API token).
    login: str | None = None
    # The account's IANA time zone in the tracker (`RemoteAccount.timezone`): days and start times of worklogs
    # are converted with it, once, in the connector.
    timezone: str | None = None
    # The tracker-side site the grant is for, when the tracker has several behind one login (Jira Cloud's cloud
    # id); the connector sets it when exchanging or refreshing, the gateway stores it with the tokens.
    site_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"Credentials(access_token='***', secret={'***' if self.secret else None}, expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


class RemoteAccount(msgspec.Struct, kw_only=True):
    """Who the credentials belong to in the tracker."""

    id: str
    name: str
    # IANA time zone of the user in the tracker, when it has one (Jira's /myself timeZone).
    timezone: str | None = None


class AuthorizationStart(msgspec.Struct, kw_only=True):
    """Where to send the browser to authorise, and the PKCE verifier to keep for the code exchange."""

    url: str
    code_verifier: str | None = None


class WorklogDraft(msgspec.Struct, kw_only=True):
    """An entry as the tracker should record it; `marker` identifies the entry so a lost answer can be found."""

    marker: str
    ticket: str
    day: date
    start: time
    minutes: int
    description: str
    activity: str | None = None


class RemoteWorklog(msgspec.Struct, kw_only=True):
    id: str
    ticket: str
    day: date
    start: time | None
    minutes: int
    description: str
    updated_at: datetime
    author_id: str | None = None
    # The marker the gateway wrote with the worklog, when it did.
    marker: str | None = None


class PullPage(msgspec.Struct, kw_only=True):
    """One page of worklogs changed since a cursor.

    The gateway asks again with `next_page` until it is None; only then is the read complete and `cursor` (the
    position to read from next time) stored. `deleted_ids` lists worklogs the tracker reports as deleted.
    """

    worklogs: list[RemoteWorklog]
    deleted_ids: list[str] = msgspec.field(default_factory=list)
    next_page: str | None = None
    cursor: str | None = None


class TicketData(msgspec.Struct, kw_only=True):
    key: str
    summary: str
    status: str | None = None
    assignee: str | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = msgspec.field(default_factory=dict)


class WebhookEventKind(StrEnum):
    TICKET_CHANGED = "ticket_changed"
    TICKET_DELETED = "ticket_deleted"
    WORKLOG_CHANGED = "worklog_changed"


class WebhookEvent(msgspec.Struct, kw_only=True):
    kind: WebhookEventKind
    ticket_key: str | None = None
    ticket: TicketData | None = None
    # The tracker account whose worklogs changed; None means "any linked user may be affected".
    account_id: str | None = None


class WebhookDelivery(msgspec.Struct, kw_only=True):
    """A verified delivery: its id (stable across the tracker's retries) and what it says."""

    delivery_id: str
    events: list[WebhookEvent]


class NoConfig(msgspec.Struct, forbid_unknown_fields=True):
    """The config of a connector that has no settings of its own."""


@dataclass(frozen=True)
class ConnectorContext:
    """What the gateway gives a connector about the ticket system it serves."""

    base_url: str
    config: msgspec.Struct
    # App-level secrets of the ticket system (OAuth client secret, private key, webhook secret), decrypted.
    secrets: Mapping[str, str] = field(repr=False)
    http: httpx.AsyncClient = field(repr=False)
    # Where the tracker sends the browser back after authorising (OAuth connectors).
    redirect_uri: str | None = None


# --- The connector --------------------------------------------------------------------------------------------


class Connector(ABC):
    """A ticket system's connector. Subclasses set the class attributes and implement every abstract method.

    Methods that a connector's auth kind does not use (say, `exchange_code` for an API-key connector) raise
    `Rejected` with a sentence saying so.
    """

    #: Unique name, stored as a ticket system's `type` (lower case, e.g. "jira").
    name: ClassVar[str]
    #: How users connect.
    auth_kind: ClassVar[AuthKind]
    #: The msgspec struct a ticket system's `config` JSON must satisfy.
    config_type: ClassVar[type[msgspec.Struct]] = NoConfig
    #: App-level secrets the ticket system needs (names in its `secrets`).
    secret_names: ClassVar[tuple[str, ...]] = ()
    #: Whether worklogs can be pushed (some connectors only read tickets).
    books_time: ClassVar[bool] = True

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context

    @classmethod
    def auth_kind_for(cls, config: msgspec.Struct) -> AuthKind:
        """How users connect to a ticket system with this config (for connectors with several auth modes)."""
        return cls.auth_kind

    @property
    def effective_auth_kind(self) -> AuthKind:
        return type(self).auth_kind_for(self.context.config)

    async def check_config(self) -> None:
        """Check a ticket system's config against the tracker when it is saved (say, that mapped ids exist);
        raise `Rejected` with what is wrong. Most connectors have nothing to check."""
        return

    # Linking ---------------------------------------------------------------------------------------------------

    @abstractmethod
    async def authorization_url(self, state: str) -> AuthorizationStart:
        """The tracker's authorisation page for an OAuth flow carrying `state` (OAuth connectors only)."""

    @abstractmethod
    async def exchange_code(self, code: str, code_verifier: str | None) -> Credentials:
        """Trade the authorisation code from the callback for tokens (OAuth connectors only)."""

    @abstractmethod
    async def refresh(self, credentials: Credentials) -> Credentials:
        """New credentials from the refresh token; `AuthRevoked` when the tracker refuses it."""

    @abstractmethod
    async def account(self, credentials: Credentials) -> RemoteAccount:
        """The account the credentials belong to: a cheap call that proves they work."""

    @abstractmethod
    async def revoke(self, credentials: Credentials) -> None:
        """Tell the tracker to forget the grant, where it can; errors are ignored by the caller."""

    # Worklogs --------------------------------------------------------------------------------------------------

    @abstractmethod
    async def create_worklog(self, credentials: Credentials, draft: WorklogDraft) -> RemoteWorklog:
        """Create a worklog carrying `draft.marker`."""

    @abstractmethod
    async def update_worklog(self, credentials: Credentials, worklog_id: str, draft: WorklogDraft) -> RemoteWorklog:
        """Change a worklog (trackers without updates delete and create; the returned id may differ)."""

    @abstractmethod
    async def delete_worklog(self, credentials: Credentials, ticket: str, worklog_id: str) -> None:
        """Delete a worklog; one that is already gone is not an error."""

    @abstractmethod
    async def find_worklog_by_marker(self, credentials: Credentials, ticket: str, marker: str) -> RemoteWorklog | None:
        """The worklog on `ticket` that carries `marker`, if any: how a create that may have happened is found."""

    @abstractmethod
    async def pull_worklogs(self, credentials: Credentials, cursor: str | None, page: str | None) -> PullPage:
        """The user's worklogs changed since `cursor` (None: the connector's initial window), one page at a time."""

    # Tickets and webhooks --------------------------------------------------------------------------------------

    @abstractmethod
    async def fetch_ticket(self, credentials: Credentials | None, key: str) -> TicketData:
        """One ticket, for the cache (with the app's own credentials when `credentials` is None, if it has any)."""

    @abstractmethod
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a webhook request really comes from the tracker (signature or shared token).

        `headers` has lower-case names; `body` is the raw body, exactly as received.
        """

    @abstractmethod
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """The events of a verified webhook request (headers with lower-case names); `Rejected` if unreadable."""


# --- Helpers for connector authors ----------------------------------------------------------------------------


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (it may be a number of seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


def error_for_response(response: httpx.Response, what: str) -> ConnectorError:
    """The typed error for a failed tracker response: 401 expired, 404 gone, 429 slow down, 5xx later, else refused."""
    status = response.status_code
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if status == 401:
        return AuthExpired(f"{what}: the tracker no longer accepts the credentials (401)")
    if status == 404:
        return NotFound(f"{what}: not found in the tracker (404)")
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimited(f"{what}: the tracker asks to slow down ({status})", retry_after)
    if status >= 500:
        return Transient(f"{what}: the tracker failed ({status})")
    return Rejected(f"{what}: the tracker refused it ({status}): {_reason(response)}")


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    for key in ("errors", "errorMessages", "error_description", "message", "error"):
        value = body.get(key) if isinstance(body, dict) else None
        if value:
            return "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    return str(body)[:300]


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the time taken does not reveal how much of a secret matched."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
