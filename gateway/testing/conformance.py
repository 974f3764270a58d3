"""The connector conformance suite: the executable form of the connector contract.

Any connector, built-in or third-party, runs it against itself and a fake of its tracker. Subclass
`ConnectorConformance` in a test module and provide two fixtures:

- `connector`: the connector under test, its context pointing at the fake tracker (it may use the suite's
  ready-made `http` fixture, an `httpx.AsyncClient`);
- `tracker`: a `FakeTracker`, the few things the suite needs to steer that fake.

    class TestTaskboxConformance(ConnectorConformance):
        @pytest.fixture
        def tracker(self, fake):
            return TaskboxTracker(fake)

        @pytest.fixture
        def connector(self, fake, http):
            return TaskboxConnector(ConnectorContext(base_url=fake.url, config=TaskboxConfig(), secrets={}, http=http))

It needs pytest and pytest-asyncio (`pip install "timetracker-gateway[testing]"`) and no settings of its own: its
async tests and fixtures carry their own asyncio marks, so pytest-asyncio's default (strict) mode runs them.

What it checks follows what the connector declares. Every connector: the account call and refused credentials,
how users connect (the OAuth dance through the fake's authorisation page, or that a token connector refuses it),
refresh (new credentials, or `AuthRevoked` where credentials do not refresh), revoke, the config check, push
create/update/delete, lookup by marker, a paginated pull from a cursor, ticket fetch, and that 401/404/422/429/5xx
answers become the typed errors. Then each declared capability: deletions in the pull (DELETION_FEED), webhook
verification and parsing (WEBHOOKS; without it, that every delivery is refused), ticket search (SEARCH) and
changed tickets (CHANGED_TICKETS). Tests of a capability the connector does not declare skip themselves, saying so.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx
import msgspec
import pytest
import pytest_asyncio

from gateway.connectors import (
    AuthExpired,
    AuthRevoked,
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
from gateway.testing.fixtures import HTTP_TIMEOUT

DAY = date(2026, 11, 24)


class FakeTracker(Protocol):
    """What the suite needs from a connector's fake tracker.

    Required of every fake: the attributes and the first five methods. `ticket_changed_webhook` and
    `signature_header` only for WEBHOOKS, `change_ticket` only for CHANGED_TICKETS; `consent` only where the
    fake's authorisation page needs to be told who approves (OAuth connectors).
    """

    #: A ticket that exists, and one that does not.
    ticket: str
    missing_ticket: str
    #: How many worklogs one page of the connector's pull holds (the suite makes more to force paging); None
    #: for a connector that reads all pages of a window within one `pull_worklogs` call.
    page_size: int | None

    def credentials(self) -> Credentials:
        """Valid credentials of the test account (with a refresh token, for OAuth 2 connectors)."""
        ...

    def add_remote_worklog(self, ticket: str, day: date, minutes: int, description: str) -> str:
        """A worklog of the test account made directly in the tracker; its id."""
        ...

    def delete_remote_worklog(self, worklog_id: str) -> None: ...

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Make the tracker's next API answer fail with `status` and `headers`."""
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


def needs(connector: Connector[Any], capability: Capability) -> None:
    """Skip the calling test unless the connector has `capability` (in the auth mode under test)."""
    if not connector.supports(capability):
        pytest.skip(f"{connector.name} does not declare Capability.{capability.name} (auth mode {connector.auth_mode})")


class ConnectorConformance:
    """Mix into a test class that provides the `connector` and `tracker` fixtures."""

    @pytest_asyncio.fixture
    async def http(self) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client like the gateway's (the connector's `ConnectorContext.http`)."""
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            yield client

    # Linking ---------------------------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_account_answers_for_valid_credentials(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        account = await connector.account(tracker.credentials())
        assert account.id
        assert account.name

    @pytest.mark.asyncio
    async def test_refused_credentials_are_an_auth_error(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        wrong = msgspec.structs.replace(tracker.credentials(), access_token="not-a-valid-credential")  # noqa: S106
        with pytest.raises((AuthExpired, AuthRevoked)):
            await connector.account(wrong)

    @pytest.mark.asyncio
    async def test_users_connect_as_the_auth_mode_says(
        self, connector: Connector[Any], tracker: FakeTracker, http: httpx.AsyncClient
    ) -> None:
        state = "conformance-state"
        if not connector.auth_kind.uses_oauth:
            # Keys and tokens are pasted by the user: there is no authorisation page.
            with pytest.raises(Rejected):
                await connector.authorization_url(state)
            with pytest.raises(Rejected):
                await connector.exchange_code("a-code", None)
            return
        consent = getattr(tracker, "consent", None)
        if consent is not None:
            consent()
        start = await connector.authorization_url(state)
        # The fake's authorisation page approves at once and sends the browser back to the gateway.
        answer = await http.get(start.url, follow_redirects=False)
        assert answer.is_redirect, f"the authorisation page answered {answer.status_code}, not a redirect"
        location = answer.headers["location"]
        assert location.startswith(connector.context.redirect_uri or "")
        query = dict(parse_qsl(urlsplit(location).query))
        assert query.get("state") == state
        code = query.get("code") or query.get("oauth_verifier")
        assert code, f"the callback carries no code: {location}"
        credentials = await connector.exchange_code(code, start.code_verifier)
        assert credentials.access_token
        assert (await connector.account(credentials)).id
        with pytest.raises((Rejected, AuthRevoked)):
            await connector.exchange_code(code, start.code_verifier)  # a code is good once

    @pytest.mark.asyncio
    async def test_refresh_gives_working_credentials_or_says_to_connect_again(
        self, connector: Connector[Any], tracker: FakeTracker
    ) -> None:
        old = tracker.credentials()
        if not connector.supports(Capability.REFRESH):
            # The sync engine marks the link "reconnect needed" on AuthRevoked.
            with pytest.raises(AuthRevoked):
                await connector.refresh(old)
            return
        new = await connector.refresh(old)
        assert new.access_token != old.access_token
        assert new.secret
        assert (await connector.account(new)).id

    @pytest.mark.asyncio
    async def test_revoke_forgets_the_grant_where_the_tracker_can(
        self, connector: Connector[Any], tracker: FakeTracker
    ) -> None:
        credentials = tracker.credentials()
        await connector.revoke(credentials)
        # The tracker forgot the grant; one that cannot revoke keeps it, and that is fine too.
        with contextlib.suppress(AuthExpired, AuthRevoked):
            await connector.account(credentials)

    @pytest.mark.asyncio
    async def test_the_test_config_passes_the_config_check(self, connector: Connector[Any]) -> None:
        await connector.check_config()

    # Worklogs --------------------------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_push_create_find_update_delete(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        credentials = tracker.credentials()
        created = await connector.create_worklog(credentials, draft("conformance-1", tracker.ticket))
        assert created.id
        assert (created.ticket, created.day, created.minutes) == (tracker.ticket, DAY, 90)
        assert created.start in (None, time(9, 30))

        found = await connector.find_worklog_by_marker(credentials, tracker.ticket, "conformance-1")
        assert found is not None
        assert found.id == created.id
        assert found.marker == "conformance-1"
        assert found.description == "Conformance"  # a marker kept in the text is not part of the description

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

    @pytest.mark.asyncio
    async def test_an_unknown_marker_finds_nothing(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        assert await connector.find_worklog_by_marker(tracker.credentials(), tracker.ticket, "never-written") is None

    @pytest.mark.asyncio
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

    @pytest.mark.asyncio
    async def test_pull_reports_deletions_after_the_cursor(
        self, connector: Connector[Any], tracker: FakeTracker
    ) -> None:
        needs(connector, Capability.DELETION_FEED)
        credentials = tracker.credentials()
        doomed = tracker.add_remote_worklog(tracker.ticket, DAY, 20, "to be deleted")
        _worklogs, _deleted, cursor, _pages = await pull_everything(connector, credentials, None)
        tracker.delete_remote_worklog(doomed)
        _worklogs, deleted, _cursor, _pages = await pull_everything(connector, credentials, cursor)
        assert doomed in deleted

    # Tickets ---------------------------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_fetch_ticket(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        ticket = await connector.fetch_ticket(tracker.credentials(), tracker.ticket)
        assert ticket.key == tracker.ticket
        assert ticket.summary
        with pytest.raises(NotFound):
            await connector.fetch_ticket(tracker.credentials(), tracker.missing_ticket)

    @pytest.mark.asyncio
    async def test_search_finds_tickets_by_summary_and_by_key(
        self, connector: Connector[Any], tracker: FakeTracker
    ) -> None:
        needs(connector, Capability.SEARCH)
        credentials = tracker.credentials()
        known = await connector.fetch_ticket(credentials, tracker.ticket)
        word = max(known.summary.split(), key=len)
        by_text = await connector.search_tickets(credentials, word.lower(), 10)
        assert known.key in {ticket.key for ticket in by_text}
        by_key = await connector.search_tickets(credentials, known.key, 10)
        assert known.key in {ticket.key for ticket in by_key}
        assert len(await connector.search_tickets(credentials, word, 1)) <= 1
        assert await connector.search_tickets(credentials, "zqxjv no ticket says this", 10) == []

    @pytest.mark.asyncio
    async def test_changed_tickets_lists_what_changed_since_a_time(
        self, connector: Connector[Any], tracker: FakeTracker
    ) -> None:
        needs(connector, Capability.CHANGED_TICKETS)
        credentials = tracker.credentials()
        before = datetime.now(UTC) - timedelta(seconds=2)
        tracker.change_ticket(tracker.ticket, "Changed for the conformance suite")  # type: ignore[attr-defined]
        changed = {ticket.key: ticket for ticket in await connector.changed_tickets(credentials, before)}
        assert changed[tracker.ticket].summary == "Changed for the conformance suite"
        assert await connector.changed_tickets(credentials, datetime.now(UTC) + timedelta(days=1)) == []

    # Webhooks --------------------------------------------------------------------------------------------------

    def test_a_genuine_webhook_verifies_and_parses(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        if not connector.supports(Capability.WEBHOOKS):
            # Without webhooks, anything posted to the system's webhook address is refused.
            assert not connector.verify_webhook({"content-type": "application/json"}, b'{"event": "anything"}')
            return
        raw_headers, body = tracker.ticket_changed_webhook()  # type: ignore[attr-defined]
        headers = lower_case(raw_headers)
        assert connector.verify_webhook(headers, body)
        delivery = connector.parse_webhook(headers, body)
        assert delivery.delivery_id
        kinds = {(event.kind, event.ticket.key if event.ticket else event.ticket_key) for event in delivery.events}
        assert (WebhookEventKind.TICKET_CHANGED, tracker.ticket) in kinds

    def test_a_tampered_webhook_is_refused(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        needs(connector, Capability.WEBHOOKS)
        headers, body = tracker.ticket_changed_webhook()  # type: ignore[attr-defined]
        assert not connector.verify_webhook(lower_case(headers), body + b" ")

    def test_an_unsigned_webhook_is_refused(self, connector: Connector[Any], tracker: FakeTracker) -> None:
        needs(connector, Capability.WEBHOOKS)
        headers, body = tracker.ticket_changed_webhook()  # type: ignore[attr-defined]
        signature = tracker.signature_header.lower()  # type: ignore[attr-defined]
        assert not connector.verify_webhook({k: v for k, v in lower_case(headers).items() if k != signature}, body)

    # Errors ----------------------------------------------------------------------------------------------------

    @pytest.mark.asyncio
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
    async def test_failures_become_the_typed_errors(
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


__all__ = ["DAY", "ConnectorConformance", "FakeTracker", "draft", "lower_case", "needs", "pull_everything"]
