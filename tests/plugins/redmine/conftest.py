"""Redmine connector tests: a real Redmine (session fixture `redmine`), a project with a member and an issue per
test, and the connector pointed at it (through a fault-injecting proxy for the conformance suite)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest

from gateway.connectors import ConnectorContext, Credentials
from gateway.plugins.redmine.connector import RedmineConfig, RedmineConnector
from tests.api.conftest import api_database_url, make_client, world  # noqa: F401  # the gateway side
from tests.loopback_server import serve
from tests.plugins.end_to_end import gateway, worker  # noqa: F401  # end to end
from tests.plugins.redmine.faulty_proxy import FaultyProxy
from tests.redmine_server import RedmineServer, RedmineUser


@dataclass
class RedmineProject:
    identifier: str
    user: RedmineUser
    issue: int


@pytest.fixture
def project(redmine: RedmineServer) -> RedmineProject:
    identifier = redmine.create_project()
    user = redmine.create_user()
    redmine.add_member(identifier, user)
    return RedmineProject(identifier=identifier, user=user, issue=redmine.create_issue(identifier))


@pytest.fixture
def proxy(redmine: RedmineServer) -> Iterator[tuple[FaultyProxy, str]]:
    faulty = FaultyProxy(redmine.url)
    with serve(faulty) as url:
        yield faulty, url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def redmine_connector(
    base_url: str,
    http: httpx.AsyncClient,
    *,
    secrets: dict[str, str] | None = None,
    redirect_uri: str | None = None,
    **config: object,
) -> RedmineConnector:
    settings = {"activity_map": {"Development": 9}, "default_activity_id": 9, **config}
    return RedmineConnector(
        ConnectorContext(
            base_url=base_url,
            config=RedmineConfig(**settings),  # type: ignore[arg-type]
            secrets=secrets or {"webhook_secret": "redmine-webhook-secret"},
            http=http,
            redirect_uri=redirect_uri,
        )
    )


class RedmineTracker:
    """The conformance suite's handle on the real Redmine (failures injected by the proxy)."""

    missing_ticket = "#99999999"
    page_size = None  # the connector reads whole windows, paging inside one call
    signature_header = "X-Redmine-Signature-256"

    def __init__(self, redmine: RedmineServer, project: RedmineProject, proxy: FaultyProxy) -> None:
        self.redmine = redmine
        self.project = project
        self.proxy = proxy
        self.ticket = f"#{project.issue}"

    def credentials(self) -> Credentials:
        return Credentials(access_token=self.project.user.api_key, account_id=str(self.project.user.id))

    def add_remote_worklog(self, ticket: str, day: date, minutes: int, description: str) -> str:
        body = self.redmine.ok(
            "POST",
            "/time_entries.json",
            key=self.project.user.api_key,
            json={"time_entry": {"issue_id": int(ticket.lstrip("#")), "spent_on": day.isoformat(),
                                 "hours": minutes / 60, "activity_id": 9, "comments": description}},
        )  # fmt: skip
        return str(body["time_entry"]["id"])

    def delete_remote_worklog(self, worklog_id: str) -> None:
        self.redmine.ok("DELETE", f"/time_entries/{worklog_id}.json")

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.proxy.fail_next(status, headers)

    def ticket_changed_webhook(self) -> tuple[dict[str, str], bytes]:
        issue = self.redmine.ok("GET", f"/issues/{self.project.issue}.json")["issue"]
        return redmine_webhook("issue.updated", {"issue": issue})

    def change_ticket(self, key: str, summary: str) -> None:
        self.redmine.ok("PUT", f"/issues/{key.lstrip('#')}.json", json={"issue": {"subject": summary}})


def redmine_webhook(
    kind: str, data: dict[str, object], secret: str = "redmine-webhook-secret"
) -> tuple[dict[str, str], bytes]:
    """A delivery as Redmine 7 sends it: JSON `{type, timestamp, data}` signed with X-Redmine-Signature-256."""
    body = json.dumps({"type": kind, "timestamp": "2026-11-27T10:00:00Z", "data": data}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Redmine-Signature-256": f"sha256={signature}"}, body
