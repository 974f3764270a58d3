"""The data a connector receives and returns. Days and wall-clock times are the user's local time (see
`WorklogDraft`); instants are timezone-aware."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Generic, TypeVar

import httpx
import msgspec


class AuthKind(StrEnum):
    """How a user connects their account: through the tracker's OAuth pages, or by pasting a key or token."""

    OAUTH2 = "oauth2"
    OAUTH1 = "oauth1"
    API_KEY = "api_key"
    PERSONAL_TOKEN = "personal_token"

    @property
    def uses_oauth(self) -> bool:
        return self in (AuthKind.OAUTH2, AuthKind.OAUTH1)


class Capability(StrEnum):
    """What a connector can do beyond the worklog methods every connector has.

    The gateway calls a capability's methods only when the connector declares it, and the conformance suite tests
    exactly the declared ones.
    """

    #: `verify_webhook` and `parse_webhook` understand the tracker's webhook deliveries.
    WEBHOOKS = "webhooks"
    #: `refresh` trades a refresh token for new credentials (in the connector's OAuth 2.0 modes).
    REFRESH = "refresh"
    #: `pull_worklogs` reports deleted worklogs in `PullPage.deleted_ids` (from the tracker's own feed, or by
    #: comparing complete reads of a window with `compare_window`).
    DELETION_FEED = "deletion_feed"
    #: `changed_tickets` lists the tickets changed since a time, so the gateway keeps its ticket cache fresh.
    CHANGED_TICKETS = "changed_tickets"
    #: `search_tickets` finds tickets by key or text (the booking form's autocomplete).
    SEARCH = "search"
    #: `update_worklog` can move a worklog to another ticket (the draft's `ticket`), keeping its id and history;
    #: without it the gateway deletes the worklog and creates one on the new ticket.
    MOVE_WORKLOG = "move_worklog"


class Credentials(msgspec.Struct, kw_only=True):
    """A link's credentials: an OAuth token pair, an API key, or a personal token (in `access_token`).

    `secret` is the OAuth 2 refresh token or the OAuth 1.0a token secret. The repr never shows either value.
    """

    access_token: str
    secret: str | None = None
    expires_at: datetime | None = None
    #: The account in the tracker (`RemoteAccount.id`), set by the gateway once the account call answered.
    account_id: str | None = None
    #: The login that goes with an API key where the tracker wants both (Jira Cloud: e-mail address + API token).
    login: str | None = None
    #: The account's IANA time zone in the tracker (`RemoteAccount.timezone`): a connector whose tracker stores
    #: instants converts the user's wall-clock times with it.
    timezone: str | None = None
    #: The tracker-side site the grant is for, when the tracker has several behind one login (Jira Cloud's cloud
    #: id); the connector sets it when exchanging or refreshing, the gateway stores it with the tokens.
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
    #: IANA time zone of the account in the tracker, when it has one (Jira's /myself timeZone).
    timezone: str | None = None


class AuthorizationStart(msgspec.Struct, kw_only=True):
    """Where to send the browser to authorise, and the PKCE verifier to keep for the code exchange."""

    url: str
    code_verifier: str | None = None


class WorklogDraft(msgspec.Struct, kw_only=True):
    """An entry as the tracker should record it.

    `day` and `start` are the wall-clock time the user booked, in their own local time, exactly as the gateway
    stores them (no zone). A tracker that keeps a date and a local time takes them as they are; one that keeps
    instants converts them with the tracker account's zone (`Credentials.timezone`), once, in the connector.
    `marker` (the entry's uuid) must be written with the worklog, so that a create whose answer was lost can be
    found again by `find_worklog_by_marker`.
    """

    marker: str
    ticket: str
    day: date
    start: time
    minutes: int
    description: str
    #: The gateway activity's name (a connector may map it to the tracker's own activities). In an update, None
    #: means the gateway's activity did not change since the last sync: leave the tracker's as it is.
    activity: str | None = None


class RemoteWorklog(msgspec.Struct, kw_only=True):
    """A worklog as the tracker holds it, in the same wall-clock terms as `WorklogDraft`."""

    id: str
    ticket: str
    day: date
    #: None when the tracker keeps no start time (Redmine): the gateway then keeps the entry's own start.
    start: time | None
    minutes: int
    description: str
    #: When the tracker last changed it (timezone-aware).
    updated_at: datetime
    #: The tracker account that owns it; the gateway ignores pulled worklogs of other accounts.
    author_id: str | None = None
    #: The marker the gateway wrote with the worklog, when it did.
    marker: str | None = None
    #: The tracker's activity (Redmine's time entry activity), for trackers that keep one.
    activity: str | None = None


class PullPage(msgspec.Struct, kw_only=True):
    """One page of a pull: worklogs changed since a cursor.

    The gateway asks again with `next_page` until it is None. Only the last page's `cursor` counts: it is stored
    once every page was read and applied, and handed back as `cursor` next time; a non-final page's cursor is
    ignored. Reading a worklog again (on a later page, or after the cursor) is harmless: unchanged worklogs change
    nothing. `deleted_ids` lists worklogs the tracker reports deleted (declare `Capability.DELETION_FEED`).

    The gateway applies each page as it arrives and stores `next_page` with it, so a run that stopped (a crash, the
    time bound of a long first import) goes on from there later, with the same `cursor`: a `next_page` must stay
    valid for another process, later (an offset with the read's pinned end, not a server-side session). A stored
    page the tracker refuses starts the read again from the cursor.
    """

    worklogs: list[RemoteWorklog]
    deleted_ids: list[str] = msgspec.field(default_factory=list)
    next_page: str | None = None
    cursor: str | None = None


class TicketData(msgspec.Struct, kw_only=True):
    """A ticket as the gateway caches it (for checks when booking, and for the autocomplete)."""

    key: str
    summary: str
    status: str | None = None
    assignee: str | None = None
    #: When the tracker last changed it; an older state arriving late never overwrites a newer one.
    updated_at: datetime | None = None
    raw: dict[str, Any] = msgspec.field(default_factory=dict)


class WebhookEventKind(StrEnum):
    TICKET_CHANGED = "ticket_changed"
    TICKET_DELETED = "ticket_deleted"
    WORKLOG_CHANGED = "worklog_changed"


class WebhookEvent(msgspec.Struct, kw_only=True):
    kind: WebhookEventKind
    ticket_key: str | None = None
    #: For TICKET_CHANGED: the ticket as the delivery describes it (it goes into the cache).
    ticket: TicketData | None = None
    #: The tracker account whose worklogs changed; None means "any linked user may be affected".
    account_id: str | None = None


class WebhookDelivery(msgspec.Struct, kw_only=True):
    """A verified delivery: its id (stable across the tracker's retries) and what it says."""

    delivery_id: str
    events: list[WebhookEvent]


class NoConfig(msgspec.Struct, forbid_unknown_fields=True):
    """The config of a connector that has no settings of its own."""


ConfigT = TypeVar("ConfigT", bound=msgspec.Struct)


@dataclass(frozen=True)
class ConnectorContext(Generic[ConfigT]):
    """What the gateway gives a connector about the ticket system it serves."""

    base_url: str
    #: The ticket system's `config`, validated into the connector's config struct.
    config: ConfigT
    #: App-level secrets of the ticket system (OAuth client secret, private key, webhook secret), decrypted.
    secrets: Mapping[str, str] = field(repr=False)
    #: The process's shared HTTP client (timeouts set); a connector makes every request through it.
    http: httpx.AsyncClient = field(repr=False)
    #: Where the tracker sends the browser back after authorising (OAuth connectors).
    redirect_uri: str | None = None


class EntryChange(msgspec.Struct, kw_only=True, frozen=True):
    """A committed change of one entry (the `gateway_entry_committed` hook's argument): `action` is create, update
    or delete; the values are as after the change."""

    action: str
    entry_id: int
    entry_uuid: uuid.UUID
    user_id: int
    day: date
    start: time
    end: time
    duration: int
    project_id: int
    activity_id: int
    ticket: str
    description: str
