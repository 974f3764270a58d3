"""The public package for connector authors: the only gateway import a connector plugin needs.

A connector speaks one ticket system's API. It subclasses `Connector` (or `TokenConnector`, or
`OAuth2Connector`), generic over its config struct, and is handed to the gateway by a `@hookimpl` of
`gateway_register_connectors` in the module its distribution's entry point names. It never opens a database
session, defines a route or reads settings: the gateway hands it a `ConnectorContext` (base URL, validated
config, app-level secrets, an HTTP client) and, per call, the link's `Credentials`. Failures leave a connector
as the typed errors here, so the sync engine can tell "try later" from "give up". The author's guide is
`docs/connectors.md`; the conformance suite is `gateway.testing`.

Everything else in `gateway` (`gateway.core`, `gateway.api`, ...) is private and may change at any release.
"""

from gateway.connectors._base import Connector, TokenConnector
from gateway.connectors._errors import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
    error_for_response,
    retry_after_seconds,
)
from gateway.connectors._hooks import ENTRY_POINT_GROUP, hookimpl
from gateway.connectors._markers import add_marker, split_marker
from gateway.connectors._oauth1 import OAuth1Consumer
from gateway.connectors._oauth2 import (
    OAuth2Client,
    OAuth2Connector,
    exchange_code,
    refresh_tokens,
    revoke_tokens,
    start_authorization,
)
from gateway.connectors._signatures import hmac_sha256_hex, same_secret
from gateway.connectors._times import to_instant, to_wall_clock, zone
from gateway.connectors._types import (
    AuthKind,
    AuthorizationStart,
    Capability,
    ConnectorContext,
    Credentials,
    EntryChange,
    NoConfig,
    PullPage,
    RemoteAccount,
    RemoteWorklog,
    TicketData,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventKind,
    WorklogDraft,
)
from gateway.connectors._window import WindowChanges, compare_window, fingerprint

__all__ = [
    "ENTRY_POINT_GROUP",
    "AuthExpired",
    "AuthKind",
    "AuthRevoked",
    "AuthorizationStart",
    "Capability",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "Credentials",
    "EntryChange",
    "NoConfig",
    "NotFound",
    "OAuth1Consumer",
    "OAuth2Client",
    "OAuth2Connector",
    "PullPage",
    "RateLimited",
    "Rejected",
    "RemoteAccount",
    "RemoteWorklog",
    "TicketData",
    "TokenConnector",
    "Transient",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookEventKind",
    "WindowChanges",
    "WorklogDraft",
    "add_marker",
    "compare_window",
    "error_for_response",
    "exchange_code",
    "fingerprint",
    "hmac_sha256_hex",
    "hookimpl",
    "refresh_tokens",
    "retry_after_seconds",
    "revoke_tokens",
    "same_secret",
    "split_marker",
    "start_authorization",
    "to_instant",
    "to_wall_clock",
    "zone",
]
