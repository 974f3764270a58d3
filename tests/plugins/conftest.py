"""The example connector (installed with pip by `make test`) and its fake Tasklog server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import httpx
import pytest

from gateway.connectors import ConnectorContext, Credentials

try:
    from example_connector.connector import TasklogConfig, TasklogConnector
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip(
        "the example connector is not installed: pip install ./tests/plugins/example_connector",
        allow_module_level=True,
    )

PAGE_SIZE = 3


@pytest.fixture
def fake() -> Iterator[FakeTasklog]:
    with FakeTasklog().serve() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def connector(fake: FakeTasklog, http: httpx.AsyncClient) -> TasklogConnector:
    context = ConnectorContext(
        base_url=fake.base_url,
        config=TasklogConfig(client_id=fake.client_id, page_size=PAGE_SIZE),
        secrets={"client_secret": fake.client_secret, "webhook_secret": fake.webhook_secret},
        http=http,
        redirect_uri="http://127.0.0.1:9/api/oauth/callback/1",
    )
    return TasklogConnector(context)


class TasklogTracker:
    """The conformance suite's handle on the fake Tasklog."""

    ticket = "TL-1"
    missing_ticket = "TL-404"
    page_size = PAGE_SIZE
    signature_header = "X-Tasklog-Signature"

    def __init__(self, fake: FakeTasklog) -> None:
        self.fake = fake
        access, refresh = fake.issue_tokens("u1")
        self._credentials = Credentials(access_token=access, secret=refresh, account_id="u1")

    def credentials(self) -> Credentials:
        return self._credentials

    def add_remote_worklog(self, ticket: str, day: date, minutes: int, description: str) -> str:
        return self.fake.add_worklog("u1", ticket, day.isoformat(), minutes, description)

    def delete_remote_worklog(self, worklog_id: str) -> None:
        self.fake.remove_worklog(worklog_id)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.fake.fail_next(status, headers)

    def ticket_changed_webhook(self) -> tuple[dict[str, str], bytes]:
        return self.fake.webhook("issue.updated", issue=self.fake.issues[self.ticket])

    def change_ticket(self, key: str, summary: str) -> None:
        self.fake.edit_issue(key, title=summary)


@pytest.fixture
def tracker(fake: FakeTasklog) -> TasklogTracker:
    return TasklogTracker(fake)
