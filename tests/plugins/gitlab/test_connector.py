"""What is particular to GitLab, against the fake GitLab (each request validated against GitLab's schema):
edits as create + delete surviving a crash between them, moves, paging past 100, the polling window, ticket keys,
GraphQL `errors`, rate limits, time zones and refresh-token rotation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest

from gateway.connectors import (
    AuthExpired,
    AuthRevoked,
    NotFound,
    RateLimited,
    Rejected,
    Transient,
    WorklogDraft,
)
from gateway.plugins.gitlab.connector import GitLabConfig, GitLabConnector, duration
from gateway.testing.conformance import pull_everything
from tests.plugins.gitlab.conftest import PROJECT, TICKET, GitLabSetup, gitlab_setup
from tests.plugins.gitlab.fake_gitlab import parse_duration

DAY = date(2026, 11, 24)
MARKER = "5f0c6a8e-0000-4000-8000-00000000e001"


def draft(ticket: str = TICKET, minutes: int = 90, description: str = "Review", *, day: date = DAY) -> WorklogDraft:
    return WorklogDraft(marker=MARKER, ticket=ticket, day=day, start=time(9, 0), minutes=minutes,
                        description=description)  # fmt: skip


@pytest.fixture
def token_gitlab() -> Iterator[GitLabSetup]:
    yield from gitlab_setup("personal_token")


@pytest.fixture
def oauth_gitlab() -> Iterator[GitLabSetup]:
    yield from gitlab_setup("oauth2")


# --- Writing timelogs -----------------------------------------------------------------------------------------


async def test_a_timelog_is_written_in_the_zone_with_the_marker_in_its_summary(
    gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector, credentials = gitlab.connector(http), gitlab.credentials()
    created = await connector.create_worklog(credentials, draft())
    [timelog] = gitlab.fake.timelogs_of(gitlab.user)
    assert timelog.gid == created.id
    assert timelog.seconds == 5400
    assert timelog.spent_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, winter time
    assert timelog.summary == f"Review [tt:{MARKER}]"
    assert (created.ticket, created.day, created.start, created.minutes) == (TICKET, DAY, time(9, 0), 90)
    assert (created.description, created.marker, created.author_id) == ("Review", MARKER, str(gitlab.user.id))
    [create] = gitlab.fake.mutations("CreateTimelog")
    assert create.variables["timeSpent"] == "1h 30m"
    assert create.variables["spentAt"] == "2026-11-24T09:00:00+01:00"


async def test_a_summary_is_cut_to_gitlabs_255_characters_and_keeps_the_marker(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector = token_gitlab.connector(http)
    created = await connector.create_worklog(token_gitlab.credentials(), draft(description="x" * 400))
    [timelog] = token_gitlab.fake.timelogs_of(token_gitlab.user)
    assert len(timelog.summary) == 255
    assert created.marker == MARKER


def test_durations_use_hours_and_minutes_only() -> None:
    assert [duration(m) for m in (1, 59, 60, 90, 480, 600)] == ["1m", "59m", "1h", "1h 30m", "8h", "10h"]
    assert [parse_duration(duration(m)) for m in (1, 90, 480, 1439)] == [60, 5400, 28800, 86340]
    assert parse_duration("1d") == 8 * 3600  # why the connector never writes days
    assert parse_duration("soon") is None


async def test_gitlab_refuses_a_future_spent_at_and_the_connector_says_so(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector = token_gitlab.connector(http)
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    with pytest.raises(Rejected, match="future"):
        await connector.create_worklog(token_gitlab.credentials(), draft(day=tomorrow))
    with pytest.raises(Rejected, match="no time"):
        await connector.create_worklog(token_gitlab.credentials(), draft(minutes=0))
    assert token_gitlab.fake.timelogs == {}


async def test_without_the_planner_role_logging_time_is_refused_with_gitlabs_words(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    token_gitlab.project.members[token_gitlab.user.id] = "guest"
    with pytest.raises(Rejected, match="don't have permission to add timelog"):
        await token_gitlab.connector(http).create_worklog(token_gitlab.credentials(), draft())


async def test_an_edit_creates_the_new_timelog_then_deletes_the_old(
    gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector, credentials = gitlab.connector(http), gitlab.credentials()
    old = await connector.create_worklog(credentials, draft())
    new = await connector.update_worklog(credentials, old.id, draft(minutes=30, description="Shorter"))
    assert new.id != old.id
    [timelog] = gitlab.fake.timelogs_of(gitlab.user)
    assert (timelog.gid, timelog.seconds, timelog.summary) == (new.id, 1800, f"Shorter [tt:{MARKER}]")
    # An update to what GitLab already holds writes nothing.
    again = await connector.update_worklog(credentials, new.id, draft(minutes=30, description="Shorter"))
    assert again.id == new.id
    assert len(gitlab.fake.mutations("CreateTimelog")) == 2


async def test_a_crash_between_create_and_delete_neither_loses_nor_doubles_time(
    gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    fake = gitlab.fake
    connector, credentials = gitlab.connector(http), gitlab.credentials()
    old = await connector.create_worklog(credentials, draft())
    _worklogs, _deleted, cursor, _pages = await pull_everything(connector, credentials, None)

    fake.fail_operation("DeleteTimelog")  # the new timelog is written, then the worker dies
    with pytest.raises(Transient):
        await connector.update_worklog(credentials, old.id, draft(minutes=45))
    assert [t.seconds for t in fake.timelogs_of(gitlab.user)] == [5400, 2700]  # both, for now

    # A pull in between shows one worklog for the entry: the newest of its marker.
    worklogs, deleted, _cursor, _pages = await pull_everything(connector, credentials, cursor)
    assert [(w.minutes, w.marker) for w in worklogs] == [(45, MARKER)]
    assert deleted == []

    # The retry finds the timelog it already wrote instead of writing a third, and removes the old one.
    retried = await connector.update_worklog(credentials, old.id, draft(minutes=45))
    assert [(t.gid, t.seconds) for t in fake.timelogs_of(gitlab.user)] == [(retried.id, 2700)]
    assert len(fake.mutations("CreateTimelog")) == 2
    assert fake.total_seconds(TICKET) == 2700


async def test_after_a_crash_the_adopted_new_timelog_cleans_up_the_old(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    fake = token_gitlab.fake
    connector, credentials = token_gitlab.connector(http), token_gitlab.credentials()
    old = await connector.create_worklog(credentials, draft())
    fake.fail_operation("DeleteTimelog")
    with pytest.raises(Transient):
        await connector.update_worklog(credentials, old.id, draft(minutes=45))
    found = await connector.find_worklog_by_marker(credentials, TICKET, MARKER)
    assert found is not None
    assert found.minutes == 45  # the newest of the marker
    # The sync engine adopted the new id (a pull found it by its marker) and pushes the entry again.
    kept = await connector.update_worklog(credentials, found.id, draft(minutes=45))
    assert kept.id == found.id
    assert [t.seconds for t in fake.timelogs_of(token_gitlab.user)] == [2700]
    # Deleting an entry whose edit was interrupted removes every timelog of its marker.
    fake.fail_operation("DeleteTimelog")
    with pytest.raises(Transient):
        await connector.update_worklog(credentials, kept.id, draft(minutes=15))
    await connector.delete_worklog(credentials, TICKET, kept.id)
    assert fake.timelogs_of(token_gitlab.user) == []


async def test_an_edit_of_a_timelog_deleted_in_gitlab_is_not_found_and_writes_nothing(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector, credentials = token_gitlab.connector(http), token_gitlab.credentials()
    old = await connector.create_worklog(credentials, draft(ticket=f"{PROJECT}#2"))
    token_gitlab.fake.delete_timelog(old.id)
    with pytest.raises(NotFound):
        await connector.update_worklog(credentials, old.id, draft(ticket=TICKET, minutes=20))
    assert token_gitlab.fake.timelogs == {}


async def test_a_move_to_another_issue(gitlab: GitLabSetup, http: httpx.AsyncClient) -> None:
    connector, credentials = gitlab.connector(http), gitlab.credentials()
    old = await connector.create_worklog(credentials, draft())
    moved = await connector.update_worklog(credentials, old.id, draft(ticket="#2"))
    assert moved.ticket == "ACME/PLATFORM/WEB#2"
    assert (gitlab.fake.total_seconds(TICKET), gitlab.fake.total_seconds(f"{PROJECT}#2")) == (0, 5400)
    assert await connector.find_worklog_by_marker(credentials, TICKET, MARKER) is None
    found = await connector.find_worklog_by_marker(credentials, "acme/platform/web#2", MARKER)
    assert found is not None
    assert found.id == moved.id


async def test_someone_elses_timelog_is_neither_found_nor_deleted(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    fake = token_gitlab.fake
    theirs = fake.add_timelog(token_gitlab.other, TICKET, datetime(2026, 11, 24, 8, tzinfo=UTC), 600,
                              f"Bob's [tt:{MARKER}]")  # fmt: skip
    connector, credentials = token_gitlab.connector(http), token_gitlab.credentials()
    assert await connector.find_worklog_by_marker(credentials, TICKET, MARKER) is None
    await connector.delete_worklog(credentials, TICKET, theirs.gid)  # GitLab refuses: "does not exist or ..."
    assert theirs.id in fake.timelogs
    worklogs, _deleted, _cursor, _pages = await pull_everything(connector, credentials, None)
    assert worklogs == []


# --- Reading timelogs -----------------------------------------------------------------------------------------


async def test_pulls_and_lookups_read_past_100_a_page(token_gitlab: GitLabSetup, http: httpx.AsyncClient) -> None:
    fake = token_gitlab.fake
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    made = [
        fake.add_timelog(token_gitlab.user, TICKET, start + timedelta(minutes=n), 60 * (n + 1), f"n{n}").gid
        for n in range(230)
    ]
    marked = fake.add_timelog(token_gitlab.user, TICKET, start, 600, f"late [tt:{MARKER}]")
    connector, credentials = token_gitlab.connector(http), token_gitlab.credentials()
    worklogs, _deleted, _cursor, pages = await pull_everything(connector, credentials, None)
    assert pages == 1  # one pull call reads every GraphQL page
    assert {w.id for w in worklogs} == {*made, marked.gid}
    reads = [op for op in fake.operations if op.name == "UserTimelogs"]
    assert len(reads) == 3
    assert all(op.variables["first"] <= 100 for op in reads)
    found = await connector.find_worklog_by_marker(credentials, TICKET, MARKER)  # the 232nd on the issue
    assert found is not None
    assert found.id == marked.gid


async def test_the_pull_rereads_its_window_so_late_and_backdated_time_is_not_lost(
    gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    fake, user = gitlab.fake, gitlab.user
    connector, credentials = gitlab.connector(http, pull_window_days=30), gitlab.credentials()
    now = datetime.now(UTC).replace(microsecond=0)
    kept = fake.add_timelog(user, TICKET, now - timedelta(days=2), 900, "kept")
    doomed = fake.add_timelog(user, TICKET, now - timedelta(days=1), 600, "doomed")
    fake.add_timelog(user, TICKET, now - timedelta(days=45), 300, "before the window")
    worklogs, deleted, cursor, _pages = await pull_everything(connector, credentials, None)
    assert {w.description for w in worklogs} == {"kept", "doomed"}
    assert deleted == []

    # Unchanged timelogs are not reported again; a change in the last minute, time logged now for three weeks
    # ago and a deletion all are.
    just_now = fake.add_timelog(user, TICKET, now - timedelta(seconds=20), 120, "in the last minute")
    backdated = fake.add_timelog(user, TICKET, now - timedelta(days=21), 240, "logged late")
    fake.delete_timelog(doomed.id)
    worklogs, deleted, cursor, _pages = await pull_everything(connector, credentials, cursor)
    assert {w.id for w in worklogs} == {just_now.gid, backdated.gid}
    assert deleted == [doomed.gid]
    assert kept.gid not in {w.id for w in worklogs}

    [variables] = [op.variables for op in fake.operations if op.name == "UserTimelogs"][-1:]
    start = datetime.fromisoformat(variables["startTime"])
    end = datetime.fromisoformat(variables["endTime"])
    assert start <= now - timedelta(days=30)
    assert end > now  # the window reaches past our clock
    assert variables["username"] == user.username


async def test_pulled_worklogs_come_back_in_the_zone(token_gitlab: GitLabSetup, http: httpx.AsyncClient) -> None:
    connector, credentials = token_gitlab.connector(http, timezone="America/New_York"), token_gitlab.credentials()
    yesterday = datetime.now(UTC).replace(hour=3, minute=30, second=0, microsecond=0) - timedelta(days=1)
    token_gitlab.fake.add_timelog(token_gitlab.user, "acme/platform/web!5", yesterday, 1800, "review")
    [worklog] = (await connector.pull_worklogs(credentials, None, None)).worklogs
    assert worklog.ticket == "ACME/PLATFORM/WEB!5"
    expected = yesterday.astimezone(ZoneInfo("America/New_York"))
    assert (worklog.day, worklog.start) == (expected.date(), expected.time().replace(tzinfo=None))
    assert (worklog.minutes, worklog.marker) == (30, None)


# --- Ticket keys ----------------------------------------------------------------------------------------------


async def test_a_bare_number_and_a_full_key_are_one_ticket(gitlab: GitLabSetup, http: httpx.AsyncClient) -> None:
    connector, credentials = gitlab.connector(http), gitlab.credentials()
    short = await connector.fetch_ticket(credentials, "#1")
    full = await connector.fetch_ticket(credentials, "acme/platform/web#1")
    upper = await connector.fetch_ticket(credentials, " ACME/PLATFORM/WEB#1 ")
    assert short.key == full.key == upper.key == TICKET
    assert (short.summary, short.status, short.raw["labels"]) == (
        "Sync timelogs with the gateway",
        "opened",
        ["backend"],
    )
    merge_request = await connector.fetch_ticket(credentials, "!5")
    assert (merge_request.key, merge_request.summary) == ("ACME/PLATFORM/WEB!5", "Timelogs on merge requests")
    created = await connector.create_worklog(credentials, draft(ticket="!5"))
    assert created.ticket == "ACME/PLATFORM/WEB!5"

    bare = gitlab.connector(http, default_project=None)
    with pytest.raises(Rejected, match="default_project"):
        await bare.fetch_ticket(credentials, "#1")
    with pytest.raises(Rejected, match="not a GitLab ticket"):
        await bare.fetch_ticket(credentials, "GW-1")
    with pytest.raises(NotFound):
        await bare.create_worklog(credentials, draft(ticket="acme/platform/web#404"))
    with pytest.raises(NotFound):
        await bare.fetch_ticket(credentials, "nobody/nothing#1")


def test_the_config_refuses_what_cannot_work() -> None:
    with pytest.raises(msgspec.ValidationError, match="client_id"):
        msgspec.convert({"auth": "oauth2"}, GitLabConfig)
    with pytest.raises(msgspec.ValidationError, match="project path"):
        msgspec.convert({"auth": "personal_token", "default_project": "web"}, GitLabConfig)
    with pytest.raises(msgspec.ValidationError, match="time zone"):
        msgspec.convert({"auth": "personal_token", "timezone": "Mars/Olympus"}, GitLabConfig)


async def test_search_and_changed_tickets(token_gitlab: GitLabSetup, http: httpx.AsyncClient) -> None:
    connector, credentials = token_gitlab.connector(http), token_gitlab.credentials()
    assert [t.key for t in await connector.search_tickets(credentials, "invoices", 10)] == ["ACME/PLATFORM/WEB#2"]
    assert [t.key for t in await connector.search_tickets(credentials, "#2", 10)] == ["ACME/PLATFORM/WEB#2"]
    assert await connector.search_tickets(credentials, "#99", 10) == []
    everywhere = token_gitlab.connector(http, default_project=None)
    assert [t.key for t in await everywhere.search_tickets(credentials, "invoices", 10)] == ["ACME/PLATFORM/WEB#2"]
    assert await everywhere.changed_tickets(credentials, datetime.now(UTC) - timedelta(days=1)) == []
    with pytest.raises(Rejected):
        await connector.changed_tickets(None, datetime.now(UTC))


# --- Errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            "The resource that you are attempting to access does not exist or you don't have permission to "
            "perform this action",
            NotFound,
        ),
        ("Internal server error", Transient),
        ("Request timed out", Transient),
        ("This endpoint has been requested too many times. Try again later.", RateLimited),
        ("Invalid token", AuthExpired),
        ("Field 'timelogs' doesn't accept argument 'spentSince'", Rejected),
    ],
)
async def test_graphql_errors_become_the_typed_errors(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient, message: str, error: type[Exception]
) -> None:
    token_gitlab.fake.graphql_errors_next(message)
    with pytest.raises(error) as caught:
        await token_gitlab.connector(http).create_worklog(token_gitlab.credentials(), draft())
    if error is Rejected:
        assert message in str(caught.value)  # GitLab's own words, not a retry
    assert token_gitlab.fake.timelogs == {}


async def test_a_429_without_headers_backs_off_on_our_own_and_ratelimit_reset_is_read(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector, credentials = token_gitlab.connector(http), token_gitlab.credentials()
    token_gitlab.fake.fail_next(429)
    with pytest.raises(RateLimited) as bare:
        await connector.pull_worklogs(credentials, None, None)
    assert bare.value.retry_after is None  # the sync engine's own backoff
    reset = int(datetime.now(UTC).timestamp()) + 40
    token_gitlab.fake.fail_next(429, {"RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)})
    with pytest.raises(RateLimited) as timed:
        await connector.create_worklog(credentials, draft())
    assert timed.value.retry_after is not None
    assert 30 <= timed.value.retry_after <= 41
    token_gitlab.fake.fail_next(429, {"Retry-After": "12"})
    with pytest.raises(RateLimited) as told:
        await connector.fetch_ticket(credentials, TICKET)
    assert told.value.retry_after == 12
    token_gitlab.fake.fail_next(403)
    with pytest.raises(Rejected, match="403"):
        await connector.fetch_ticket(credentials, TICKET)


# --- OAuth ----------------------------------------------------------------------------------------------------


async def test_every_refresh_rotates_and_a_reused_refresh_token_means_reconnect(
    oauth_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector = oauth_gitlab.connector(http)
    first = oauth_gitlab.credentials()
    second = await connector.refresh(first)
    assert (second.access_token, second.secret) != (first.access_token, first.secret)
    assert second.account_id == first.account_id
    assert second.expires_at is not None
    # Both old tokens died with the rotation.
    with pytest.raises(AuthExpired):
        await connector.account(first)
    # A refresh that lost its answer (the new pair never stored) cannot be repeated: the link must reconnect.
    with pytest.raises(AuthRevoked):
        await connector.refresh(first)
    assert (await connector.account(second)).id == str(oauth_gitlab.user.id)
    third = await connector.refresh(second)
    assert (await connector.account(third)).name == "Ann Example"
    [*_, last] = oauth_gitlab.fake.token_requests
    assert last["grant_type"] == "refresh_token"


async def test_the_authorisation_asks_for_the_configured_scope_with_pkce(
    oauth_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    start = await oauth_gitlab.connector(http, scope="read_api").authorization_url("s1")
    assert "scope=read_api" in start.url
    assert "code_challenge_method=S256" in start.url
    assert start.code_verifier
    with pytest.raises(Rejected):
        await oauth_gitlab.connector(http).exchange_code("not-a-code", start.code_verifier)


async def test_disconnecting_revokes_the_grant(oauth_gitlab: GitLabSetup, http: httpx.AsyncClient) -> None:
    connector, credentials = oauth_gitlab.connector(http), oauth_gitlab.credentials()
    await connector.revoke(credentials)
    with pytest.raises(AuthExpired):
        await connector.account(credentials)
    assert set(oauth_gitlab.fake.revocations) == {"refresh_token", "access_token"}


async def test_personal_tokens_go_in_private_token_and_do_not_refresh(
    token_gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector: GitLabConnector = token_gitlab.connector(http)
    assert (await connector.account(token_gitlab.credentials())).id == str(token_gitlab.user.id)
    with pytest.raises(AuthRevoked):
        await connector.refresh(token_gitlab.credentials())
