"""The `Connector` base class, and `TokenConnector` for trackers whose users paste a key or token."""

from __future__ import annotations

import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic

import msgspec

from gateway.connectors._errors import AuthRevoked, Rejected
from gateway.connectors._types import (
    AuthKind,
    AuthorizationStart,
    Capability,
    ConfigT,
    ConnectorContext,
    Credentials,
    NoConfig,
    PullPage,
    RemoteAccount,
    RemoteWorklog,
    TicketData,
    WebhookDelivery,
    WorklogDraft,
)


class Connector(ABC, Generic[ConfigT]):
    """A ticket system's connector, generic over its config struct: `class Mine(Connector[MineConfig])`.

    Subclasses set `name`, `auth_modes` (and `auth_mode_field` when there are several), `secret_names` and
    `capabilities`, and implement every abstract method. The methods of a capability (webhooks, search, changed
    tickets) have harmless defaults here; a connector that declares the capability overrides them.
    """

    #: Unique name, stored as a ticket system's `type` (lower case letters, digits, '_' or '-'; e.g. "jira").
    name: ClassVar[str]
    #: The msgspec struct a ticket system's `config` must satisfy: the class's type argument, set automatically.
    config_type: ClassVar[type[msgspec.Struct]] = NoConfig
    #: How users connect: auth mode name -> kind. With several modes, `auth_mode_field` names the config field
    #: that chooses one per ticket system (its values are the mode names).
    auth_modes: ClassVar[Mapping[str, AuthKind]]
    auth_mode_field: ClassVar[str | None] = None
    #: App-level secrets a ticket system of this type may hold (names in its `secrets`); others are refused.
    secret_names: ClassVar[tuple[str, ...]] = ()
    #: What the connector can do beyond the worklog methods every connector has.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, context: ConnectorContext[ConfigT]) -> None:
        self.context = context

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            if isinstance(origin, type) and issubclass(origin, Connector):
                (argument,) = typing.get_args(base) or (None,)
                if isinstance(argument, type) and issubclass(argument, msgspec.Struct):
                    cls.config_type = argument

    @property
    def config(self) -> ConfigT:
        """The ticket system's config, as the connector's own struct."""
        return self.context.config

    @classmethod
    def auth_mode_for(cls, config: msgspec.Struct) -> str:
        """The auth mode a ticket system with this config uses."""
        if cls.auth_mode_field is None:
            return next(iter(cls.auth_modes))
        return str(getattr(config, cls.auth_mode_field))

    @classmethod
    def auth_kind_for(cls, config: msgspec.Struct) -> AuthKind:
        return cls.auth_modes[cls.auth_mode_for(config)]

    @property
    def auth_mode(self) -> str:
        return type(self).auth_mode_for(self.context.config)

    @property
    def auth_kind(self) -> AuthKind:
        return type(self).auth_kind_for(self.context.config)

    def supports(self, capability: Capability) -> bool:
        """Whether this ticket system can do `capability`: declared, and for REFRESH, connected through OAuth 2.0."""
        if capability is Capability.REFRESH and self.auth_kind is not AuthKind.OAUTH2:
            return False
        return capability in type(self).capabilities

    async def check_config(self) -> None:
        """Check the ticket system's config against the tracker when an ADMIN saves it (say, that mapped ids exist
        there); raise `Rejected` saying what is wrong. The default checks nothing."""
        return

    # Linking ---------------------------------------------------------------------------------------------------

    @abstractmethod
    async def authorization_url(self, state: str) -> AuthorizationStart:
        """The tracker's authorisation page for an OAuth flow carrying `state`; `Rejected` for token modes."""

    @abstractmethod
    async def exchange_code(self, code: str, code_verifier: str | None) -> Credentials:
        """Trade the code (OAuth 1.0a: the verifier) from the callback for credentials; `Rejected` for token modes."""

    @abstractmethod
    async def refresh(self, credentials: Credentials) -> Credentials:
        """New credentials from the refresh token; `AuthRevoked` when the tracker refuses it or the credentials
        cannot refresh (API keys, personal tokens): the user must connect again."""

    @abstractmethod
    async def account(self, credentials: Credentials) -> RemoteAccount:
        """The account the credentials belong to: a cheap call that proves they work (`AuthExpired` if not)."""

    @abstractmethod
    async def revoke(self, credentials: Credentials) -> None:
        """Tell the tracker to forget the grant, where it can (a no-op where it cannot); errors are ignored."""

    # Worklogs --------------------------------------------------------------------------------------------------

    @abstractmethod
    async def create_worklog(self, credentials: Credentials, draft: WorklogDraft) -> RemoteWorklog:
        """Create a worklog on `draft.ticket` carrying `draft.marker`."""

    @abstractmethod
    async def update_worklog(self, credentials: Credentials, worklog_id: str, draft: WorklogDraft) -> RemoteWorklog:
        """Change a worklog (trackers without updates delete and create; the returned id may differ); `NotFound`
        when it is gone."""

    @abstractmethod
    async def delete_worklog(self, credentials: Credentials, ticket: str, worklog_id: str) -> None:
        """Delete a worklog; one that is already gone is not an error."""

    @abstractmethod
    async def find_worklog_by_marker(self, credentials: Credentials, ticket: str, marker: str) -> RemoteWorklog | None:
        """The worklog on `ticket` that carries `marker`, if any: how a create that may have happened is found."""

    @abstractmethod
    async def pull_worklogs(self, credentials: Credentials, cursor: str | None, page: str | None) -> PullPage:
        """The user's worklogs changed since `cursor`, one page at a time (`page` is the previous page's
        `next_page`). A None cursor is a link's first pull: it covers the connector's initial window."""

    # Tickets ---------------------------------------------------------------------------------------------------

    @abstractmethod
    async def fetch_ticket(self, credentials: Credentials | None, key: str) -> TicketData:
        """One ticket, for the cache; `NotFound` when the tracker has no such ticket. `credentials` is None when
        no link is at hand: use the app's own credentials if it has any, else raise `Rejected`."""

    async def search_tickets(self, credentials: Credentials, text: str, limit: int) -> list[TicketData]:
        """Capability SEARCH: at most `limit` tickets whose key starts with `text` or whose summary contains it,
        best first. The default finds nothing."""
        return []

    async def changed_tickets(self, credentials: Credentials | None, since: datetime) -> list[TicketData]:
        """Capability CHANGED_TICKETS: every ticket changed at or after `since` (timezone-aware). `credentials` is
        None when no link is at hand (as for `fetch_ticket`)."""
        raise Rejected(f"{self.name} cannot list changed tickets")

    # Webhooks --------------------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Capability WEBHOOKS: whether a request really comes from the tracker (signature or shared token).

        `headers` has lower-case names; `body` is the raw body, exactly as received. The default refuses all.
        """
        return False

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """Capability WEBHOOKS: the events of a verified delivery (lower-case header names); `Rejected` if
        unreadable."""
        raise Rejected(f"{self.name} takes no webhooks")


# The methods a capability brings: a connector declaring one must override them, and one overriding them must
# declare it (else the gateway would never call them).
CAPABILITY_METHODS: dict[Capability, tuple[str, ...]] = {
    Capability.WEBHOOKS: ("verify_webhook", "parse_webhook"),
    Capability.SEARCH: ("search_tickets",),
    Capability.CHANGED_TICKETS: ("changed_tickets",),
}


def not_oauth(connector: Connector[Any]) -> Rejected:
    mode = connector.auth_mode.replace("_", " ")
    return Rejected(f"{connector.name} connects with {mode}, not through the tracker's OAuth pages")


class TokenConnector(Connector[ConfigT]):
    """A connector whose users paste a personal token (or API key): the linking methods are done.

    `account` checks the token when the user stores it; the token does not refresh (`refresh` raises
    `AuthRevoked`, so a refused token marks the link "reconnect needed"), and revoking is left to the user in the
    tracker. Set `auth_modes = {"api_key": AuthKind.API_KEY}` for trackers that call it an API key.
    """

    auth_modes: ClassVar[Mapping[str, AuthKind]] = types.MappingProxyType({"personal_token": AuthKind.PERSONAL_TOKEN})

    async def authorization_url(self, state: str) -> AuthorizationStart:
        raise not_oauth(self)

    async def exchange_code(self, code: str, code_verifier: str | None) -> Credentials:
        raise not_oauth(self)

    async def refresh(self, credentials: Credentials) -> Credentials:
        raise AuthRevoked(f"{self.name} tokens do not refresh: store a valid one again")

    async def revoke(self, credentials: Credentials) -> None:
        return None
