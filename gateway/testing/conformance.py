"""The connector conformance suite: the executable form of the connector contract.

Any connector, built-in or third-party, runs it against itself and a fake of its tracker. Subclass
`ConnectorConformance` in a test module and provide two fixtures:

- `connector`: the connector under test, its context pointing at the fake tracker;
- `tracker`: a `FakeTracker`, the few things the suite needs to steer that fake.

    class TestTasklogConformance(ConnectorConformance):
        @pytest.fixture
        def tracker(self, fake): return TasklogTracker(fake)
        @pytest.fixture
        def connector(self, fake, http): return TasklogConnector(ConnectorContext(...))

The suite checks: the account call, push create/update/delete, lookup by marker, a paginated pull from a cursor
with deletions, ticket fetch, webhook verification (good, tampered, unsigned) and parsing, token refresh, and
that 401/404/422/429/5xx answers become the core's error types.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any, Protocol

import pytest

from gateway.connectors import (
    AuthExpired,
    Capability,
    Connector,
    ConnectorError,
    Credentials,
    NotFound,
    RateLimited,
    Rejected,
    RemoteWorklog,
    Transient,
    WebhookEventKind,
    WorklogDraft,
)

DAY = date(2026, 11, 24)


class FakeTracker(Protocol):
    """What the suite needs from a connector's fake tracker."""

    #: A ticket that exists, and one that does not.
    ticket: str
    missing_ticket: str
    #: How many worklogs one page of the connector's pull holds (the suite makes more to force paging); None
    #: for a connector that reads all pages of a window within one `pull_worklogs` call.
    page_size: int | None
    #: The header the tracker authenticates webhooks with (the suite drops it to test an unsigned request).
    signature_header: str

    def credentials(self) -> Credentials:
        """Valid credentials (with a refresh token, for OAuth connectors) of the test account."""
        ...

    def add_remote_worklog(self, ticket: str, day: date, minutes: int, description: str) -> str:
        """A worklog of the test account made directly in the tracker; its id."""
        ...

    def delete_remote_worklog(self, worklog_id: str) -> None: ...

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Make the tracker's next API answer fail with `status` and `headers`."""
        ...

    def ticket_changed_webhook(self) -> tuple[dict[str, str], bytes]:
        """A genuine delivery that announces a change of `ticket`: (headers, body)."""
        ...


def lower_case(headers: dict[str, str]) -> dict[str, str]:
    """Headers as the gateway hands them to a connector: lower-case names."""
    return {name.lower(): value for name, value in headers.items()}


def draft(marker: str, ticket: str, minutes: int = 90, description: str = "Conformance") -> WorklogDraft:
    return WorklogDraft(
        marker=marker, ticket=ticket, day=DAY, start=time(9, 30), minutes=minutes, description=description
    )


async def pull_everything(
    connector: Connector[Any], credentials: Credentials, cursor: str | None
) -> tuple[list[RemoteWorklog], list[str], str | None, int]:
    """Follow `next_page` to the end: (worklogs, deleted ids, the final cursor, pages read)."""
    worklogs: list[RemoteWorklog] = []
    deleted: list[str] = []
    page: str | None = None
    pages = 0
    while True:
        result = await connector.pull_worklogs(credentials, cursor, page)
        pages += 1
        worklogs += result.worklogs
        deleted += result.deleted_ids
        if result.next_page is None:
            return worklogs, deleted, result.cursor, pages
        page = result.next_page
        assert pages < 1000, "the connector keeps returning next pages"


class ConnectorConformance:
    """Mix into a test class that provides the `connector` and `tracker` fixtures."""

    async def test_account_answers_for_valid_credentials(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        account = await connector.account(tracker.credentials())
        assert account.id
        assert account.name

    async def test_push_create_find_update_delete(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        credentials = tracker.credentials()
        created = await connector.create_worklog(credentials, draft("conformance-1", tracker.ticket))
        assert created.id
        assert (created.ticket, created.day, created.minutes) == (tracker.ticket, DAY, 90)

        found = await connector.find_worklog_by_marker(credentials, tracker.ticket, "conformance-1")
        assert found is not None
        assert found.id == created.id
        assert found.marker == "conformance-1"

        updated = await connector.update_worklog(
            credentials, created.id, draft("conformance-1", tracker.ticket, 30, "Less")
        )
        assert (updated.minutes, updated.description) == (30, "Less")
        found = await connector.find_worklog_by_marker(credentials, tracker.ticket, "conformance-1")
        assert found is not None
        assert found.minutes == 30

        await connector.delete_worklog(credentials, tracker.ticket, updated.id)
        assert await connector.find_worklog_by_marker(credentials, tracker.ticket, "conformance-1") is None
        # Deleting what is already gone is not an error: a retried delete must succeed.
        await connector.delete_worklog(credentials, tracker.ticket, updated.id)

    async def test_an_unknown_marker_finds_nothing(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        assert await connector.find_worklog_by_marker(tracker.credentials(), tracker.ticket, "never-written") is None

    async def test_pull_reads_every_page_and_continues_from_its_cursor(
        self, connector: Connector[Any], tracker: FakeTracker
    ) -> None:
        credentials = tracker.credentials()
        count = (tracker.page_size or 3) + 2
        made = {tracker.add_remote_worklog(tracker.ticket, DAY, 15 + n, f"remote {n}") for n in range(count)}
        worklogs, _deleted, cursor, pages = await pull_everything(connector, credentials, None)
        assert made <= {worklog.id for worklog in worklogs}
        if tracker.page_size is not None:
            assert pages >= 2
        assert cursor is not None

        later = tracker.add_remote_worklog(tracker.ticket, DAY, 5, "after the cursor")
        worklogs, _deleted, _cursor, _pages = await pull_everything(connector, credentials, cursor)
        assert later in {worklog.id for worklog in worklogs}

    async def test_pull_reports_deletions_after_the_cursor(
        self, connector: Connector[Any], tracker: FakeTracker
    ) -> None:
        credentials = tracker.credentials()
        doomed = tracker.add_remote_worklog(tracker.ticket, DAY, 20, "to be deleted")
        _worklogs, _deleted, cursor, _pages = await pull_everything(connector, credentials, None)
        tracker.delete_remote_worklog(doomed)
        _worklogs, deleted, _cursor, _pages = await pull_everything(connector, credentials, cursor)
        assert doomed in deleted

    async def test_fetch_ticket(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        ticket = await connector.fetch_ticket(tracker.credentials(), tracker.ticket)
        assert ticket.key == tracker.ticket
        assert ticket.summary
        with pytest.raises(NotFound):
            await connector.fetch_ticket(tracker.credentials(), tracker.missing_ticket)

    def test_a_genuine_webhook_verifies_and_parses(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        raw_headers, body = tracker.ticket_changed_webhook()
        headers = lower_case(raw_headers)
        assert connector.verify_webhook(headers, body)
        delivery = connector.parse_webhook(headers, body)
        assert delivery.delivery_id
        kinds = {(event.kind, event.ticket.key if event.ticket else event.ticket_key) for event in delivery.events}
        assert (WebhookEventKind.TICKET_CHANGED, tracker.ticket) in kinds

    def test_a_tampered_webhook_is_refused(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        headers, body = tracker.ticket_changed_webhook()
        assert not connector.verify_webhook(lower_case(headers), body + b" ")

    def test_an_unsigned_webhook_is_refused(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        headers, body = tracker.ticket_changed_webhook()
        unsigned = {k: v for k, v in lower_case(headers).items() if k != tracker.signature_header.lower()}
        assert not connector.verify_webhook(unsigned, body)

    async def test_refresh_gives_working_credentials(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        if not connector.supports(Capability.REFRESH):
            pytest.skip(f"{connector.name} does not refresh in auth mode {connector.auth_mode}")
        old = tracker.credentials()
        new = await connector.refresh(old)
        assert new.access_token != old.access_token
        assert new.secret
        assert (await connector.account(new)).id

    @pytest.mark.parametrize(
        ("status", "headers", "error"),
        [
            (401, {}, AuthExpired),
            (404, {}, NotFound),
            (422, {}, Rejected),
            (429, {"Retry-After": "7"}, RateLimited),
            (500, {}, Transient),
            (502, {}, Transient),
        ],
    )
    async def test_failures_become_the_core_error_types(
        self,
        connector: Connector[Any],
        tracker: FakeTracker,
        status: int,
        headers: dict[str, str],
        error: type[ConnectorError],
    ) -> None:
        tracker.fail_next(status, headers)
        with pytest.raises(error) as caught:
            await connector.fetch_ticket(tracker.credentials(), tracker.ticket)
        if isinstance(caught.value, RateLimited):
            assert caught.value.retry_after == 7
