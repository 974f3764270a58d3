"""GitLab connector tests: a fake GitLab per test with a user, a project (in a subgroup) and issues, and the
connector on it, in both ways of connecting (OAuth 2.0 with rotating refresh tokens, personal access token)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import httpx
import pytest

from gateway.connectors import ConnectorContext, Credentials
from gateway.plugins.gitlab.connector import GitLabConfig, GitLabConnector
from gateway.testing.fixtures import http as http  # the connector's HTTP client, for tests outside the suite
from tests.api.conftest import api_database_url, make_client, world  # noqa: F401  # the gateway side (end to end)
from tests.plugins.end_to_end import gateway, worker  # noqa: F401  # end to end
from tests.plugins.gitlab.fake_gitlab import FakeGitLab, Project, User

MODES = ["oauth2", "personal_token"]
REDIRECT_URI = "http://127.0.0.1:9/api/oauth/callback/1"
PROJECT = "acme/platform/web"
TICKET = "ACME/PLATFORM/WEB#1"


@dataclass
class GitLabSetup:
    fake: FakeGitLab
    auth: str
    user: User
    other: User
    project: Project

    def config(self, **extra: object) -> GitLabConfig:
        settings: dict[str, object] = {"auth": self.auth, "default_project": PROJECT, "timezone": "Europe/Berlin"}
        if self.auth == "oauth2":
            settings["client_id"] = self.fake.client_id
        return GitLabConfig(**(settings | extra))  # type: ignore[arg-type]

    def secrets(self, **extra: str) -> dict[str, str]:
        return {"client_secret": self.fake.client_secret, "webhook_secret": self.fake.webhook_secret, **extra}

    def connector(
        self, http: httpx.AsyncClient, secrets: dict[str, str] | None = None, **config: object
    ) -> GitLabConnector:
        context = ConnectorContext(
            base_url=self.fake.base_url,
            config=self.config(**config),
            secrets=self.secrets() if secrets is None else secrets,
            http=http,
            redirect_uri=REDIRECT_URI,
        )
        return GitLabConnector(context)

    def credentials(self, user: User | None = None) -> Credentials:
        user = user or self.user
        if self.auth == "oauth2":
            access, refresh = self.fake.issue_tokens(user)
            return Credentials(access_token=access, secret=refresh, account_id=str(user.id))
        return Credentials(access_token=user.token, account_id=str(user.id))


def gitlab_setup(auth: str) -> Iterator[GitLabSetup]:
    fake = FakeGitLab()
    with fake.serve():
        user = fake.add_user("ann", "Ann Example")
        other = fake.add_user("bob", "Bob Example")
        project = fake.add_project(PROJECT, [(user, "developer"), (other, "developer")])
        fake.add_issue(project, 1, "Sync timelogs with the gateway", labels=["backend"])
        fake.add_issue(project, 2, "Second issue about invoices")
        fake.add_issue(project, 5, "Timelogs on merge requests", merge_request=True)
        yield GitLabSetup(fake=fake, auth=auth, user=user, other=other, project=project)
        assert not fake.violations, "the connector broke GitLab's GraphQL schema:\n" + "\n".join(fake.violations)


@pytest.fixture(params=MODES)
def gitlab(request: pytest.FixtureRequest) -> Iterator[GitLabSetup]:
    """A fake GitLab, connected to with OAuth 2.0 or with a personal access token."""
    yield from gitlab_setup(request.param)


class GitLabTracker:
    """The conformance suite's handle on the fake GitLab."""

    ticket = TICKET
    missing_ticket = "ACME/PLATFORM/WEB#404"
    page_size = None  # one pull call reads every GraphQL page of its window
    signature_header = "webhook-signature"

    def __init__(self, setup: GitLabSetup) -> None:
        self.setup = setup
        self._credentials = setup.credentials()

    def credentials(self) -> Credentials:
        return self._credentials

    def add_remote_worklog(self, ticket: str, day: date, minutes: int, description: str) -> str:
        spent_at = datetime.combine(day, time(10, 0), tzinfo=UTC)
        return self.setup.fake.add_timelog(self.setup.user, ticket, spent_at, minutes * 60, description).gid

    def delete_remote_worklog(self, worklog_id: str) -> None:
        self.setup.fake.delete_timelog(worklog_id)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.setup.fake.fail_next(status, headers)

    def consent(self) -> None:
        self.setup.fake.consenting_user = self.setup.user.id

    def change_ticket(self, key: str, summary: str) -> None:
        issue = self.setup.fake.issuable(key)
        issue.title = summary
        issue.updated_at = datetime.now(UTC)

    def ticket_changed_webhook(self) -> tuple[dict[str, str], bytes]:
        fake = self.setup.fake
        payload = fake.issue_payload(fake.issuable(self.ticket), self.setup.user)
        return fake.hook("Issue Hook", payload, signing_token=fake.signing_token)
