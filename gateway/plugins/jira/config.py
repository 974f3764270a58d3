"""A Jira ticket system's config: the flavour, how users connect, and the few knobs worth having."""

from __future__ import annotations

from typing import Literal

import msgspec

Flavour = Literal["cloud", "datacenter"]
AuthMode = Literal["oauth2", "api_token", "personal_token", "oauth1"]

# Which ways of connecting each flavour offers, the first being the default.
AUTH_MODES: dict[str, tuple[str, ...]] = {
    "cloud": ("oauth2", "api_token"),
    "datacenter": ("personal_token", "oauth1"),
}


class JiraConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Set per ticket system; the base URL is the site (`https://acme.atlassian.net`) or the DC server."""

    flavour: Flavour = "cloud"
    # None: the flavour's default (Cloud: oauth2, Data Center: personal_token).
    auth: AuthMode | None = None
    # How Jira adjusts the remaining estimate when a worklog is added, changed or deleted.
    adjust_estimate: Literal["auto", "leave"] = "auto"
    # Cloud OAuth 2.0 (3LO): the app's client id (the secret is the system's `client_secret`).
    client_id: str | None = None
    # Data Center OAuth 1.0a: the consumer key of the application link (the key is the system's `private_key`).
    consumer_key: str | None = None
    # Atlassian's OAuth and API gateway hosts (only tests point them elsewhere).
    auth_url: str = "https://auth.atlassian.com"
    api_gateway_url: str = "https://api.atlassian.com"
    # How far back the first pull of a link reads, in days.
    initial_pull_days: int = 30

    def __post_init__(self) -> None:
        allowed = AUTH_MODES[self.flavour]
        if self.auth is None:
            self.auth = allowed[0]  # type: ignore[assignment]
        if self.auth not in allowed:
            raise ValueError(f"Jira {self.flavour} connects through {' or '.join(allowed)}, not {self.auth}")
        if self.auth == "oauth2" and not self.client_id:
            raise ValueError("Jira Cloud OAuth needs the app's client_id")
        if self.auth == "oauth1" and not self.consumer_key:
            raise ValueError("Jira Data Center OAuth 1.0a needs the application link's consumer_key")
        if not 1 <= self.initial_pull_days <= 366:
            raise ValueError("initial_pull_days must lie between 1 and 366")

    @property
    def mode(self) -> AuthMode:
        assert self.auth is not None
        return self.auth
