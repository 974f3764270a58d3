"""Jira connector tests: a fake Jira per test (Cloud or Data Center), a user, an issue, and the connector on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import httpx
import pytest

from gateway.connectors import ConnectorContext, Credentials
from gateway.plugins.jira.config import JiraConfig
from gateway.plugins.jira.connector import JiraConnector
from tests.api.conftest import api_database_url, make_client, world  # noqa: F401  # the gateway side
from tests.plugins.end_to_end import gateway, worker  # noqa: F401  # end to end
from tests.plugins.jira.fake_jira import FakeJira, JiraUser, rsa_key_pair

MODES = [("cloud", "api_token"), ("cloud", "oauth2"), ("datacenter", "personal_token"), ("datacenter", "oauth1")]
REDIRECT_URI = "http://127.0.0.1:9/api/oauth/callback/1"


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    return rsa_key_pair()


@dataclass
class JiraSetup:
    fake: FakeJira
    flavour: str
    auth: str
    user: JiraUser
    private_key: str

    def config(self, **extra: object) -> JiraConfig:
        settings: dict[str, object] = {"flavour": self.flavour, "auth": self.auth, **extra}
        if self.auth == "oauth2":
            settings |= {"client_id": self.fake.client_id, "auth_url": self.fake.base_url}
        if self.flavour == "cloud":
            # Atlassian's API gateway (OAuth 2.0 and scoped API tokens) is the fake too, on loopback.
            settings.setdefault("api_gateway_url", self.fake.base_url)
        if self.auth == "oauth1":
            settings["consumer_key"] = self.fake.consumer_key
        return JiraConfig(**settings)  # type: ignore[arg-type]

    def secrets(self) -> dict[str, str]:
        return {
            "client_secret": self.fake.client_secret,
            "private_key": self.private_key,
            "webhook_secret": self.fake.webhook_secret,
        }

    def connector(self, http: httpx.AsyncClient, **config: object) -> JiraConnector:
        context = ConnectorContext(
            base_url=self.fake.base_url,
            config=self.config(**config),
            secrets=self.secrets(),
            http=http,
            redirect_uri=REDIRECT_URI,
        )
        return JiraConnector(context)

    def credentials(self, user: JiraUser | None = None) -> Credentials:
        user = user or self.user
        common = {"account_id": user.id, "timezone": user.timezone}
        if self.auth == "api_token":
            return Credentials(access_token=user.token, login=user.email, **common)
        if self.auth == "oauth2":
            access, refresh = self.fake.issue_oauth_tokens(user)
            return Credentials(access_token=access, secret=refresh, site_id=self.fake.cloud_id, **common)
        if self.auth == "oauth1":
            return Credentials(access_token=self.fake.issue_oauth1_token(user), **common)
        return Credentials(access_token=user.token, **common)


def jira_setup(flavour: str, auth: str, private_key: str, public_key: str, **fake_options: int) -> Iterator[JiraSetup]:
    fake = FakeJira(flavour, **fake_options)
    fake.public_key = public_key
    with fake.serve():
        user = fake.add_user("ann", timezone="Europe/Berlin")
        fake.add_issue("GW-1", "Sync worklogs")
        yield JiraSetup(fake=fake, flavour=flavour, auth=auth, user=user, private_key=private_key)
        assert not fake.violations, "the fake Jira broke Atlassian's contract:\n" + "\n".join(fake.violations)


@pytest.fixture(params=MODES, ids=["-".join(mode) for mode in MODES])
def jira(request: pytest.FixtureRequest, rsa_keys: tuple[str, str]) -> Iterator[JiraSetup]:
    """A fake Jira in each flavour and way of connecting."""
    flavour, auth = request.param
    yield from jira_setup(flavour, auth, *rsa_keys, feed_page_size=3)


class JiraTracker:
    """The conformance suite's handle on the fake Jira."""

    ticket = "GW-1"
    missing_ticket = "GW-404"
    page_size = 3
    signature_header = "X-Hub-Signature"

    def __init__(self, setup: JiraSetup) -> None:
        self.setup = setup
        self._credentials = setup.credentials()

    def credentials(self) -> Credentials:
        return self._credentials

    def add_remote_worklog(self, ticket: str, day: date, minutes: int, description: str) -> str:
        started = datetime.combine(day, time(10, 0), tzinfo=ZoneInfo(self.setup.user.timezone))
        return self.setup.fake.add_worklog(self.setup.user, ticket, started, minutes, description).id

    def delete_remote_worklog(self, worklog_id: str) -> None:
        self.setup.fake.delete_worklog(worklog_id)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.setup.fake.fail_next(status, headers)

    def ticket_changed_webhook(self) -> tuple[dict[str, str], bytes]:
        return self.setup.fake.issue_webhook(self.ticket)

    def consent(self) -> None:
        self.setup.fake.consenting_user = self.setup.user.id
