"""The Jira connector against the fake Jira: formats, time zones, the change feeds, limits, webhooks, linking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest

from gateway.connectors import (
    AuthExpired,
    AuthRevoked,
    Credentials,
    NotFound,
    RateLimited,
    Rejected,
    WebhookEventKind,
    WorklogDraft,
)
from gateway.plugins.jira import connector as jira_connector
from gateway.plugins.jira.config import JiraConfig
from gateway.plugins.jira.connector import JiraConnector, _seconds
from gateway.testing.conformance import pull_everything
from tests.plugins.jira.conftest import JiraSetup, jira_setup

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def cloud(rsa_keys: tuple[str, str]) -> Iterator[JiraSetup]:
    yield from jira_setup("cloud", "api_token", *rsa_keys, feed_page_size=3)


@pytest.fixture
def datacenter(rsa_keys: tuple[str, str]) -> Iterator[JiraSetup]:
    yield from jira_setup("datacenter", "personal_token", *rsa_keys, feed_page_size=3)


def draft(
    marker: str, day: date, start: time, minutes: int = 60, text: str = "Work", ticket: str = "GW-1"
) -> WorklogDraft:
    return WorklogDraft(marker=marker, ticket=ticket, day=day, start=start, minutes=minutes, description=text)


def sent_bodies(setup: JiraSetup, method: str, suffix: str = "/worklog") -> list[dict[str, object]]:
    return [body for m, path, _query, body in setup.fake.requests if m == method and path.endswith(suffix)]


async def test_started_carries_the_offset_without_colon_and_comments_are_adf_on_cloud(
    cloud: JiraSetup, http: httpx.AsyncClient
) -> None:
    connector = cloud.connector(http)
    created = await connector.create_worklog(
        cloud.credentials(), draft("m-1", date(2026, 11, 24), time(9, 30), 90, "Fix login\n\nand the form")
    )
    [body] = sent_bodies(cloud, "POST")
    assert body["started"] == "2026-11-24T09:30:00.000+0100"
    assert body["timeSpentSeconds"] == 5400
    assert body["properties"] == [{"key": "timetracker", "value": {"entry": "m-1"}}]
    assert body["comment"]["type"] == "doc"  # type: ignore[index]
    assert created.description == "Fix login\n\nand the form"
    assert (created.day, created.start, created.minutes, created.marker) == (date(2026, 11, 24), time(9, 30), 90, "m-1")
    assert cloud.fake.requests[-1][2]["adjustEstimate"] == "auto"


async def test_data_center_sends_plain_comments_and_adjust_estimate_from_the_config(
    datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    connector = datacenter.connector(http, adjust_estimate="leave")
    created = await connector.create_worklog(datacenter.credentials(), draft("m-2", date(2026, 11, 24), time(8, 0)))
    [body] = sent_bodies(datacenter, "POST")
    assert body["comment"] == "Work [tt:m-2]"
    assert datacenter.fake.requests[-1][2]["adjustEstimate"] == "leave"
    assert created.author_id == datacenter.user.id


async def test_data_center_keeps_the_marker_in_the_comment_and_sends_only_documented_fields(
    datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    # Data Center's worklog bean has no `properties` and Jackson refuses unknown fields: the marker must survive
    # there, or a create whose answer was lost is made a second time.
    connector, credentials, fake = datacenter.connector(http), datacenter.credentials(), datacenter.fake
    created = await connector.create_worklog(credentials, draft("m-dc", date(2026, 11, 24), time(9, 0), text="Fix"))
    [body] = sent_bodies(datacenter, "POST")
    assert set(body) == {"started", "timeSpentSeconds", "comment"}
    assert body["comment"] == "Fix [tt:m-dc]"
    assert all("expand" not in query for _m, _p, query, _b in fake.requests)
    assert (created.marker, created.description) == ("m-dc", "Fix")
    found = await connector.find_worklog_by_marker(credentials, "GW-1", "m-dc")
    assert found is not None
    assert (found.id, found.marker, found.description) == (created.id, "m-dc", "Fix")
    updated = await connector.update_worklog(credentials, created.id, draft("m-dc", date(2026, 11, 24), time(9, 0),
                                                                             30, "Fix more"))  # fmt: skip
    assert (updated.marker, updated.description, updated.minutes) == ("m-dc", "Fix more", 30)
    fake.age_everything()
    pulled, _deleted, _cursor, _pages = await pull_everything(connector, credentials, None)
    assert {(w.id, w.marker, w.description) for w in pulled} == {(created.id, "m-dc", "Fix more")}
    refused = await http.post(
        f"{fake.base_url}/rest/api/2/issue/GW-1/worklog",
        json={"started": "2026-11-24T09:00:00.000+0100", "timeSpentSeconds": 60, "properties": []},
        headers={"Authorization": f"Bearer {datacenter.user.token}"},
    )
    assert refused.status_code == 400
    assert "Unrecognized field" in refused.text


async def test_the_marker_is_looked_up_in_few_requests_around_the_entrys_day(
    cloud: JiraSetup, http: httpx.AsyncClient
) -> None:
    connector, credentials, fake = cloud.connector(http), cloud.credentials(), cloud.fake
    bob = fake.add_user("bob")
    berlin = ZoneInfo("Europe/Berlin")
    for n in range(250):
        fake.add_worklog(bob, "GW-1", datetime(2026, 1, 1, 9, tzinfo=berlin) + timedelta(days=n), 30, f"bob {n}")
    created = await connector.create_worklog(credentials, draft("needle", date(2026, 11, 24), time(9, 0)))
    fake.requests.clear()
    found = await connector.find_worklog_by_marker(credentials, "GW-1", "needle")
    assert found is not None
    assert found.id == created.id
    assert len(fake.requests) == 1  # one page of Jira's largest size, not three of a hundred
    fake.requests.clear()
    near = await connector.find_worklog_by_marker(credentials, "GW-1", "needle", day=date(2026, 11, 24))
    assert near is not None
    assert near.id == created.id
    [(_method, _path, query, _body)] = fake.requests
    assert int(query["startedAfter"]) <= int(fake.worklogs[created.id].started.timestamp() * 1000)
    assert int(query["startedBefore"]) > int(fake.worklogs[created.id].started.timestamp() * 1000)
    assert await connector.find_worklog_by_marker(credentials, "GW-1", "needle", day=date(2026, 6, 1)) is None


async def test_synced_writes_do_not_mail_the_watchers_on_cloud(
    cloud: JiraSetup, datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    for setup in (cloud, datacenter):
        connector, credentials = setup.connector(http), setup.credentials()
        created = await connector.create_worklog(credentials, draft("n-1", date(2026, 11, 24), time(9, 0)))
        await connector.update_worklog(credentials, created.id, draft("n-1", date(2026, 11, 24), time(9, 0), 30))
        await connector.delete_worklog(credentials, "GW-1", created.id)
    assert cloud.fake.notifications == []
    # Data Center offers no notifyUsers on worklogs: its notification scheme mails the watchers (see the README).
    assert [event for event, _key in datacenter.fake.notifications] == [
        "issue_work_logged", "issue_worklog_updated", "issue_worklog_deleted",
    ]  # fmt: skip


async def test_jira_refuses_other_started_formats(cloud: JiraSetup) -> None:
    url = f"{cloud.fake.base_url}/rest/api/3/issue/GW-1/worklog"
    auth = (cloud.user.email, cloud.user.token)
    async with httpx.AsyncClient() as client:
        for started in ("2026-11-24T09:30:00.000Z", "2026-11-24T09:30:00.000+01:00", "2026-11-24T09:30:00+0100"):
            response = await client.post(url, json={"started": started, "timeSpentSeconds": 60}, auth=auth)
            assert response.status_code == 400, started
    assert cloud.fake.worklogs == {}


@pytest.mark.parametrize(
    ("zone", "day", "start", "offset"),
    [
        ("Europe/Berlin", date(2026, 3, 29), time(0, 30), "+0100"),  # the night clocks go forward
        ("Europe/Berlin", date(2026, 3, 29), time(23, 30), "+0200"),
        ("Europe/Berlin", date(2026, 10, 25), time(0, 30), "+0200"),  # the night clocks go back
        ("Europe/Berlin", date(2026, 10, 25), time(23, 45), "+0100"),
        ("America/Los_Angeles", date(2026, 11, 1), time(23, 30), "-0800"),  # US clocks go back that night
        ("Pacific/Auckland", date(2026, 4, 5), time(0, 15), "+1300"),
    ],
)
async def test_the_day_never_shifts_across_a_time_change(
    rsa_keys: tuple[str, str], http: httpx.AsyncClient, zone: str, day: date, start: time, offset: str
) -> None:
    for setup in jira_setup("cloud", "api_token", *rsa_keys):
        setup.user.timezone = zone
        connector = setup.connector(http)
        credentials = setup.credentials()
        assert (await connector.account(credentials)).timezone == zone
        created = await connector.create_worklog(credentials, draft("dst", day, start))
        assert sent_bodies(setup, "POST")[0]["started"] == f"{day.isoformat()}T{start:%H:%M}:00.000{offset}"
        found = await connector.find_worklog_by_marker(credentials, "GW-1", "dst")
        assert found is not None
        assert (created.day, created.start) == (found.day, found.start) == (day, start)
        setup.fake.age_everything()
        pulled, _deleted, _cursor, _pages = await pull_everything(connector, credentials, None)
        assert [(w.day, w.start) for w in pulled] == [(day, start)]


async def test_without_a_known_zone_both_directions_use_utc(cloud: JiraSetup, http: httpx.AsyncClient) -> None:
    # Jira shows the worklog in the reading user's zone (Berlin here); the link knows no zone, so it wrote UTC.
    connector, credentials = cloud.connector(http), cloud.credentials()
    credentials.timezone = None
    created = await connector.create_worklog(credentials, draft("utc", date(2026, 11, 24), time(23, 30)))
    assert sent_bodies(cloud, "POST")[0]["started"] == "2026-11-24T23:30:00.000+0000"
    assert (created.day, created.start) == (date(2026, 11, 24), time(23, 30))
    cloud.fake.age_everything()
    pulled, _deleted, _cursor, _pages = await pull_everything(connector, credentials, None)
    assert [(w.day, w.start) for w in pulled] == [(date(2026, 11, 24), time(23, 30))]


async def test_a_start_the_clocks_skip_is_refused_not_shifted_by_an_hour(
    cloud: JiraSetup, http: httpx.AsyncClient
) -> None:
    connector, credentials = cloud.connector(http), cloud.credentials()
    with pytest.raises(Rejected, match="does not exist in Europe/Berlin"):
        await connector.create_worklog(credentials, draft("gap", date(2026, 3, 29), time(2, 30)))
    assert cloud.fake.worklogs == {}
    # The hour the clocks repeat exists (its first occurrence) and comes back as written.
    created = await connector.create_worklog(credentials, draft("fold", date(2026, 10, 25), time(2, 30)))
    assert (created.day, created.start) == (date(2026, 10, 25), time(2, 30))


async def test_pull_keeps_the_users_own_worklogs_and_finds_their_keys(
    datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    fake = datacenter.fake
    bob = fake.add_user("bob")
    fake.add_issue("GW-2", "Another")
    berlin = ZoneInfo("Europe/Berlin")
    mine = [fake.add_worklog(datacenter.user, key, datetime(2026, 11, 20, 9, tzinfo=berlin), 30, "mine")
            for key in ("GW-1", "GW-2", "GW-2")]  # fmt: skip
    fake.add_worklog(bob, "GW-1", datetime(2026, 11, 20, 9, tzinfo=berlin), 45, "bob's")
    pulled, _deleted, cursor, pages = await pull_everything(datacenter.connector(http), datacenter.credentials(), None)
    assert {(w.id, w.ticket) for w in pulled} == {
        (w.id, k) for w, k in zip(mine, ["GW-1", "GW-2", "GW-2"], strict=True)
    }
    assert pages >= 2  # the user's issues, then the deletions
    assert cursor is not None
    searches = [query for method, path, query, _ in fake.requests if path == "/search"]
    assert [q["jql"].split(" AND ")[0] for q in searches] == ["worklogAuthor = currentUser()"]
    assert not [path for _m, path, _q, _b in fake.requests if path in ("/worklog/updated", "/worklog/list")]


async def test_an_issue_deleted_between_the_search_and_its_read_does_not_fail_the_pull(
    datacenter: JiraSetup, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_connector, "ISSUES_PER_PAGE", 1)
    fake = datacenter.fake
    fake.add_issue("GW-2", "Another")
    berlin = ZoneInfo("Europe/Berlin")
    for key in ("GW-1", "GW-2"):
        fake.add_worklog(datacenter.user, key, datetime(2026, 11, 20, 10, tzinfo=berlin), 30, key)
    connector, credentials = datacenter.connector(http), datacenter.credentials()
    first = await connector.pull_worklogs(credentials, None, None)  # the search, and the first issue
    [read] = first.worklogs
    fake.issues.pop({"GW-1": "GW-2", "GW-2": "GW-1"}[read.ticket])  # gone before the next page reads it
    following = await connector.pull_worklogs(credentials, None, first.next_page)
    assert following.worklogs == []
    assert following.next_page is not None


async def test_worklogs_are_not_dropped_while_the_search_lags_behind(
    cloud: JiraSetup, datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    for setup in (cloud, datacenter):
        fake, connector, credentials = setup.fake, setup.connector(http), setup.credentials()
        _pulled, _deleted, cursor, _pages = await pull_everything(connector, credentials, None)
        fake.lag_search()
        fake.add_issue("GW-3", "Made a moment ago", indexed=False)
        fresh = fake.add_worklog(setup.user, "GW-3", datetime(2026, 11, 20, 9, tzinfo=berlin), 30, "fresh")
        # An issue the search still shows as it was before the user logged work on it.
        also = fake.add_worklog(setup.user, "GW-1", datetime(2026, 11, 20, 11, tzinfo=berlin), 15, "also")
        pulled, _deleted, later, _pages = await pull_everything(connector, credentials, cursor)
        assert not {fresh.id, also.id} & {w.id for w in pulled}  # the search does not show them yet
        fake.index()
        # The next read's window starts well before the last one began: the lagging issues are read now.
        pulled, _deleted, _cursor, _pages = await pull_everything(connector, credentials, later)
        assert {(w.id, w.ticket) for w in pulled} == {(fresh.id, "GW-3"), (also.id, "GW-1")}


async def test_on_cloud_the_search_reconciles_the_users_latest_issues(
    cloud: JiraSetup, http: httpx.AsyncClient
) -> None:
    fake, connector, credentials = cloud.fake, cloud.connector(http), cloud.credentials()
    berlin = ZoneInfo("Europe/Berlin")
    fake.add_worklog(cloud.user, "GW-1", datetime(2026, 11, 20, 9, tzinfo=berlin), 30, "earlier")
    fake.age_everything(timedelta(hours=1))  # the issue's last change is older than the next read's window
    _pulled, _deleted, cursor, _pages = await pull_everything(connector, credentials, None)
    fake.lag_search()
    # Logged a moment ago on the issue the user worked on last (a webhook starts this pull); the index lags.
    fresh = fake.add_worklog(
        cloud.user, "GW-1", datetime(2026, 11, 21, 9, tzinfo=berlin), 15, "just now", age=timedelta(0)
    )
    pulled, _deleted, _cursor, _pages = await pull_everything(connector, credentials, cursor)
    assert fresh.id in {w.id for w in pulled}
    [search] = [q for _m, p, q, _b in fake.requests if p == "/search/jql" and "reconcileIssues" in q]
    assert search["reconcileIssues"] == fake.issues["GW-1"].id


async def test_an_unfinished_pull_goes_on_from_its_page_in_another_process(
    cloud: JiraSetup, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_connector, "ISSUES_PER_PAGE", 2)
    fake, credentials = cloud.fake, cloud.credentials()
    berlin = ZoneInfo("Europe/Berlin")
    made = set()
    for n in range(2, 7):
        fake.add_issue(f"GW-{n}")
        made.add(fake.add_worklog(cloud.user, f"GW-{n}", datetime(2026, 11, 20, 9, tzinfo=berlin), 30, "w").id)
    first = await cloud.connector(http).pull_worklogs(credentials, None, None)
    assert len(first.worklogs) == 2
    assert first.next_page is not None
    # The run stopped here (its time bound); a later run, in another worker, goes on from the stored page.
    searches = len([p for _m, p, _q, _b in fake.requests if p == "/search/jql"])
    later, page, rest = cloud.connector(http), first.next_page, list(first.worklogs)
    while page is not None:
        result = await later.pull_worklogs(credentials, None, page)
        rest += result.worklogs
        page, cursor = result.next_page, result.cursor
    assert {w.id for w in rest} == made
    assert cursor is not None
    assert len([p for _m, p, _q, _b in fake.requests if p == "/search/jql"]) == searches  # not searched again
    # A position written by an older gateway (the site feed's) is refused: the engine reads from the cursor.
    with pytest.raises(Rejected):
        await later.pull_worklogs(credentials, None, '{"phase": "updated", "since": 1, "updated": 1, "deleted": 1}')


async def _one_users_pull(
    setup: JiraSetup, http: httpx.AsyncClient, *, busy: bool
) -> tuple[int, int, set[str], list[str]]:
    """Ann's pull after her changes, on a quiet or a busy site: (requests, worklog bodies, ids pulled, deleted)."""
    fake, ann = setup.fake, setup.user
    others = [fake.add_user("bob"), fake.add_user("carol"), fake.add_user("dave")]
    fake.add_issue("GW-2", "Ann's other issue")
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime(2026, 11, 20, 9, tzinfo=berlin)
    old = fake.add_worklog(ann, "GW-1", day - timedelta(days=90), 60, "long ago", age=timedelta(days=90))
    doomed = fake.add_worklog(ann, "GW-2", day, 30, "to be deleted")
    connector, credentials = setup.connector(http), setup.credentials()
    _pulled, _deleted, cursor, _pages = await pull_everything(connector, credentials, None)
    if busy:
        # The rest of the site works: 300 worklogs on issues Ann never touched, edits, deletions; the other
        # linked users pull theirs.
        for n in range(10):
            fake.add_issue(f"OPS-{n}")
        theirs = [
            fake.add_worklog(others[i % 3], f"OPS-{i % 10}", day + timedelta(minutes=i), 15, f"theirs {i}")
            for i in range(300)
        ]
        for worklog in theirs[:60]:
            fake.edit_worklog(worklog.id, 20)
        for worklog in theirs[60:90]:
            fake.delete_worklog(worklog.id)
        for other in others:
            pulled, _deleted, _c, _p = await pull_everything(connector, setup.credentials(other), None)
            assert pulled
            assert {w.author_id for w in pulled} == {other.id}
    # Ann's own changes: an edit of a worklog started long before the window, a deletion, and a worklog made a
    # moment ago (the newest minute, which Jira's change feeds leave out).
    fake.edit_worklog(old.id, 75)
    fake.delete_worklog(doomed.id)
    fresh = fake.add_worklog(ann, "GW-2", day + timedelta(hours=2), 45, "just now", age=timedelta(0))
    calls, bodies = fake.calls[ann.id], fake.bodies[ann.id]
    pulled, deleted, _cursor, _pages = await pull_everything(connector, credentials, cursor)
    assert {w.author_id for w in pulled} == {ann.id}
    assert {old.id, fresh.id} <= {w.id for w in pulled}
    assert [w.minutes for w in pulled if w.id == old.id] == [75]
    assert doomed.id in deleted
    return fake.calls[ann.id] - calls, fake.bodies[ann.id] - bodies, {w.id for w in pulled}, deleted


@pytest.mark.parametrize(("flavour", "auth"), [("cloud", "api_token"), ("datacenter", "personal_token")])
async def test_one_users_pull_does_not_grow_with_the_rest_of_the_sites_activity(
    flavour: str, auth: str, rsa_keys: tuple[str, str], http: httpx.AsyncClient
) -> None:
    measured = {}
    for busy in (False, True):
        for setup in jira_setup(flavour, auth, *rsa_keys):
            measured[busy] = await _one_users_pull(setup, http, busy=busy)
    quiet_calls, quiet_bodies, quiet_ids, _ = measured[False]
    busy_calls, busy_bodies, busy_ids, _ = measured[True]
    # The same requests and the same worklog bodies, whatever 300 others' worklogs, their edits and deletions:
    # only Ann's changed issues are read (the deletion feed is one page per thousand deletions, ids only).
    assert (busy_calls, busy_bodies) == (quiet_calls, quiet_bodies)
    assert busy_bodies <= 3  # Ann's worklogs on her two changed issues
    assert len(busy_ids) == len(quiet_ids)


async def test_the_newest_minute_is_read_from_the_users_issues_so_a_webhooks_pull_sees_it(
    cloud: JiraSetup, datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    for setup in (cloud, datacenter):
        connector, credentials, fake = setup.connector(http), setup.credentials(), setup.fake
        bob = fake.add_user("bob")
        older = fake.add_worklog(setup.user, "GW-1", datetime(2026, 11, 20, 9, tzinfo=berlin), 30, "older")
        _pulled, _deleted, cursor, _pages = await pull_everything(connector, credentials, None)
        # Made a moment ago (a webhook about it starts this pull): the feeds do not show it yet.
        fresh = fake.add_worklog(
            setup.user, "GW-1", datetime(2026, 11, 21, 9, tzinfo=berlin), 15, "just now", age=timedelta(0)
        )
        fake.add_worklog(bob, "GW-1", datetime(2026, 11, 21, 10, tzinfo=berlin), 15, "bob's", age=timedelta(0))
        pulled, _deleted, cursor, _pages = await pull_everything(connector, credentials, cursor)
        ids = {w.id for w in pulled}
        assert fresh.id in ids
        assert all(w.author_id == setup.user.id for w in pulled)  # not bob's
        [read] = [w for w in pulled if w.id == fresh.id]
        assert (read.ticket, read.minutes, read.description) == ("GW-1", 15, "just now")
        # A deletion in the newest minute waits for the feed, which shows it once the minute has passed.
        fake.delete_worklog(older.id, age=timedelta(0))
        _pulled, deleted, cursor, _pages = await pull_everything(connector, credentials, cursor)
        assert older.id not in deleted
        fake.age_everything(timedelta(seconds=90))
        _pulled, deleted, _cursor, _pages = await pull_everything(connector, credentials, cursor)
        assert older.id in deleted


async def test_search_pages_with_tokens_on_cloud_and_offsets_on_data_center(
    cloud: JiraSetup, datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    for setup, path in ((cloud, "/search/jql"), (datacenter, "/search")):
        keys = [setup.fake.add_issue(f"SR-{n}").key for n in range(1, 8)]
        connector = setup.connector(http)
        found = [issue["key"] async for issue in connector.search_issues(
            setup.credentials(), f"key in ({','.join(keys)})", page_size=3)]  # fmt: skip
        assert found == keys
        assert sum(1 for _m, p, _q, _b in setup.fake.requests if p == path) == 3
    # The old Cloud search is gone.
    response = await http.get(
        f"{cloud.fake.base_url}/rest/api/3/search?jql=key+in+(GW-1)", auth=(cloud.user.email, cloud.user.token)
    )
    assert response.status_code == 410


async def test_tickets_are_searched_by_key_and_by_jql_text_search(
    cloud: JiraSetup, datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    for setup, path in ((cloud, "/search/jql"), (datacenter, "/search")):
        setup.fake.add_issue("SR-1", "Invoice export")
        setup.fake.add_issue("SR-2", "Monthly invoices")
        setup.fake.add_issue("SR-3", 'Quote "marks" here')
        connector, credentials = setup.connector(http), setup.credentials()
        assert [t.key for t in await connector.search_tickets(credentials, "invoice", 10)] == ["SR-2", "SR-1"]
        assert [t.key for t in await connector.search_tickets(credentials, "invoice", 1)] == ["SR-2"]
        assert [t.key for t in await connector.search_tickets(credentials, '"marks"', 10)] == ["SR-3"]
        # A key is fetched (JQL would refuse an unknown key); the text search runs as well.
        found = await connector.search_tickets(credentials, "gw-1", 10)
        assert [(t.key, t.summary) for t in found] == [("GW-1", "Sync worklogs")]
        assert await connector.search_tickets(credentials, "GW-404", 10) == []
        jql = [q["jql"] for _m, p, q, _b in setup.fake.requests if p == path]
        assert jql[0] == 'summary ~ "invoice*" ORDER BY updated DESC'
        assert jql[2] == 'summary ~ "\\"marks\\"*" ORDER BY updated DESC'


async def test_a_worklog_moved_in_jira_is_followed_not_deleted_and_made_again(
    cloud: JiraSetup, http: httpx.AsyncClient
) -> None:
    connector, credentials, fake = cloud.connector(http), cloud.credentials(), cloud.fake
    fake.add_issue("GW-2")
    created = await connector.create_worklog(credentials, draft("move", date(2026, 11, 24), time(9, 0)))
    fake.move_worklog(created.id, "GW-2")  # someone moved it in Jira
    changed = await connector.update_worklog(
        credentials, created.id, draft("move", date(2026, 11, 24), time(9, 0), 45, ticket="GW-1")
    )
    # Changed where it now is and reported there: the entry follows the move at the next pull.
    assert (changed.id, changed.ticket, changed.minutes, changed.marker) == (created.id, "GW-2", 45, "move")
    assert [(w.id, w.issue_id, w.seconds) for w in fake.worklogs.values()] == [
        (created.id, fake.issues["GW-2"].id, 2700)
    ]
    assert fake.deleted == []
    assert (fake.issues["GW-1"].time_spent, fake.issues["GW-2"].time_spent) == (0, 2700)
    # Deleted in Jira: NotFound, and nothing is created.
    fake.delete_worklog(created.id)
    with pytest.raises(NotFound):
        await connector.update_worklog(credentials, created.id, draft("move", date(2026, 11, 24), time(9, 0)))
    assert fake.worklogs == {}


async def test_worklogs_carry_their_issues_id_and_are_changed_by_it_after_the_key_changed(
    cloud: JiraSetup, datacenter: JiraSetup, http: httpx.AsyncClient
) -> None:
    for setup in (cloud, datacenter):
        connector, credentials, fake = setup.connector(http), setup.credentials(), setup.fake
        issue_id = fake.issues["GW-1"].id
        created = await connector.create_worklog(credentials, draft("ren", date(2026, 11, 24), time(9, 0)))
        assert created.ticket_id == issue_id
        fake.move_issue("GW-1", "OPS-7")  # moved to another project: a new key, the same id
        fake.requests.clear()
        changed = await connector.update_worklog(
            credentials, created.id,
            WorklogDraft(marker="ren", ticket="GW-1", ticket_id=issue_id, day=date(2026, 11, 24), start=time(9, 0),
                         minutes=45, description="Work"),
        )  # fmt: skip
        # Addressed by the id (one request), and reported under the key the gateway knows, with the id beside it.
        assert [(m, p) for m, p, _q, _b in fake.requests] == [("PUT", f"/issue/{issue_id}/worklog/{created.id}")]
        assert (changed.ticket, changed.ticket_id, changed.minutes) == ("GW-1", issue_id, 45)
        # The pull names the issue by its key now, and by the same id: a rename, not a move to another issue.
        fake.age_everything()
        pulled, _deleted, _cursor, _pages = await pull_everything(connector, credentials, None)
        assert {(w.id, w.ticket, w.ticket_id) for w in pulled} == {(created.id, "OPS-7", issue_id)}


async def test_rate_limits_become_retry_after(cloud: JiraSetup, http: httpx.AsyncClient) -> None:
    connector, credentials = cloud.connector(http), cloud.credentials()
    cloud.fake.fail_next(429, {"Retry-After": "12", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                               "RateLimit-Reason": "jira-quota-tenant-based"})  # fmt: skip
    with pytest.raises(RateLimited) as first:
        await connector.account(credentials)
    assert first.value.retry_after == 12
    cloud.fake.fail_next(503, {"Retry-After": "30"})
    with pytest.raises(RateLimited) as second:
        await connector.account(credentials)
    assert second.value.retry_after == 30
    cloud.fake.issue_write_limit = 2
    day = date(2026, 11, 24)
    await connector.create_worklog(credentials, draft("w1", day, time(8, 0)))
    await connector.create_worklog(credentials, draft("w2", day, time(9, 0)))
    with pytest.raises(RateLimited) as third:
        await connector.create_worklog(credentials, draft("w3", day, time(10, 0)))
    assert third.value.retry_after == 2


async def test_jira_error_messages_reach_the_user(cloud: JiraSetup, http: httpx.AsyncClient) -> None:
    with pytest.raises(Rejected) as refused:
        await cloud.connector(http).create_worklog(
            cloud.credentials(), draft("zero", date(2026, 11, 24), time(9, 0), 0)
        )
    assert "timeLogged: You must indicate the time spent working." in str(refused.value)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_captured_webhooks_parse_and_verify(cloud: JiraSetup) -> None:
    connector = JiraConnector(cloud.connector(httpx.AsyncClient()).context)
    signed = cloud.fake.webhook  # signs any body the way Jira does
    for name, kind, key in (
        ("issue_updated__status.json", WebhookEventKind.TICKET_CHANGED, "TEST-1"),
        ("issue_deleted.json", WebhookEventKind.TICKET_DELETED, "BUG-15"),
    ):
        payload = json.loads(fixture_bytes(name))
        headers, body = signed(payload.pop("webhookEvent"), payload)
        lower = {k.lower(): v for k, v in headers.items()}
        assert connector.verify_webhook(lower, body)
        delivery = connector.parse_webhook(lower, body)
        assert delivery.delivery_id == headers["X-Atlassian-Webhook-Identifier"]
        [event] = delivery.events
        assert event.kind is kind
        assert (event.ticket.key if event.ticket else event.ticket_key) == key
    changed = connector.parse_webhook({}, fixture_bytes("issue_updated__status.json"))
    assert changed.events[0].ticket is not None
    assert changed.events[0].ticket.status == "In Progress"
    for name in ("worklog_created.json", "worklog_updated.json", "worklog_deleted.json"):
        delivery = connector.parse_webhook({"x-atlassian-webhook-identifier": "d-1"}, fixture_bytes(name))
        [event] = delivery.events
        assert (event.kind, event.account_id) == (
            WebhookEventKind.WORKLOG_CHANGED,
            "99:27935d01-92a7-4687-8272-a9b8d3b2ae2e",
        )
    # The raw captured body with a signature made with another secret, or none, is refused.
    raw = fixture_bytes("worklog_created.json")
    headers, _ = cloud.fake.webhook("worklog_created", {}, secret="not-the-secret")
    assert not connector.verify_webhook({"x-hub-signature": headers["X-Hub-Signature"]}, raw)
    assert not connector.verify_webhook({}, raw)
    with pytest.raises(Rejected):
        connector.parse_webhook({}, b"not json")


@pytest.mark.parametrize(
    ("webhook_event", "type_name"),
    [
        ("jira:worklog_updated", "issue_work_logged"),
        ("jira:worklog_updated", "issue_worklog_updated"),
        ("jira:worklog_updated", "issue_worklog_deleted"),
        # Older servers announce the same as an issue update.
        ("jira:issue_updated", "issue_work_logged"),
    ],
)
def test_issue_level_worklog_events_ask_the_authors_link_to_sync(
    cloud: JiraSetup, datacenter: JiraSetup, webhook_event: str, type_name: str
) -> None:
    # The issue-level form names the issue and the acting user; the worklog id is only in the changelog.
    captured = json.loads(fixture_bytes("issue_updated__status.json"))
    payload = {
        **captured,
        "webhookEvent": webhook_event,
        "issue_event_type_name": type_name,
        "changelog": {"id": "10101", "items": [{"field": "WorklogId", "from": None, "to": "10066"}]},
    }
    user = captured["user"]
    for setup, account in ((cloud, user["accountId"]), (datacenter, user["key"])):
        connector = JiraConnector(setup.connector(httpx.AsyncClient()).context)
        delivery = connector.parse_webhook({}, msgspec.json.encode(payload))
        kinds = {event.kind: event for event in delivery.events}
        assert kinds[WebhookEventKind.WORKLOG_CHANGED].account_id == account
        assert kinds[WebhookEventKind.TICKET_CHANGED].ticket.key == "TEST-1"  # type: ignore[union-attr]


def test_an_issue_event_without_fields_does_not_blank_the_cached_ticket(cloud: JiraSetup) -> None:
    connector = JiraConnector(cloud.connector(httpx.AsyncClient()).context)
    for fields in (None, {}, {"summary": None}):
        body = msgspec.json.encode({"webhookEvent": "jira:issue_updated", "issue": {"key": "GW-1", "fields": fields}})
        assert connector.parse_webhook({}, body).events == []


def test_old_servers_time_spent_text_is_read_with_jiras_default_working_time() -> None:
    page = json.loads(fixture_bytes("worklog.json"))
    assert _seconds(page["worklogs"][0]) == 18 * 5 * 8 * 3600 + 2 * 8 * 3600  # "18w 2d"
    assert _seconds({"timeSpentSeconds": 5400, "timeSpent": "1h 30m"}) == 5400
    assert _seconds(json.loads(fixture_bytes("worklog.post.json"))) == 2 * 8 * 3600


def test_config_names_what_is_wrong() -> None:
    for settings, message in (
        ({"flavour": "datacenter", "auth": "oauth2"}, "personal_token or oauth1"),
        ({"flavour": "cloud", "auth": "oauth2"}, "client_id"),
        ({"flavour": "datacenter", "auth": "oauth1"}, "consumer_key"),
        ({"flavour": "cloud", "auth": "api_token", "initial_pull_days": 0}, "initial_pull_days"),
    ):
        with pytest.raises(msgspec.ValidationError, match=message):
            msgspec.convert(settings, JiraConfig)
    assert msgspec.convert({"flavour": "datacenter"}, JiraConfig).mode == "personal_token"


async def test_cloud_oauth_links_finds_the_cloud_id_and_rotates_refresh_tokens(
    rsa_keys: tuple[str, str], http: httpx.AsyncClient
) -> None:
    for setup in jira_setup("cloud", "oauth2", *rsa_keys):
        fake, connector = setup.fake, setup.connector(http)
        fake.consenting_user = setup.user.id
        start = await connector.authorization_url("state-1")
        query = parse_qs(urlsplit(start.url).query)
        assert query["audience"] == ["api.atlassian.com"]
        assert query["prompt"] == ["consent"]
        assert set(query["scope"][0].split()) == {
            "read:jira-work",
            "write:jira-work",
            "read:jira-user",
            "offline_access",
        }
        async with httpx.AsyncClient() as browser:
            redirect = await browser.get(start.url)
        code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]

        credentials = await connector.exchange_code(code, start.code_verifier)
        assert credentials.site_id == fake.cloud_id
        assert fake.token_requests[-1]["grant_type"] == "authorization_code"  # sent as JSON, or the fake says 415
        account = await connector.account(credentials)
        assert account.id == setup.user.id
        credentials.account_id = account.id

        refreshed = await connector.refresh(credentials)
        assert refreshed.secret != credentials.secret
        assert (refreshed.site_id, refreshed.account_id) == (fake.cloud_id, setup.user.id)
        assert (await connector.account(refreshed)).id == setup.user.id
        # Reusing the rotated-away refresh token fails, and Atlassian revokes the grant with it.
        with pytest.raises(AuthRevoked):
            await connector.refresh(credentials)
        with pytest.raises(AuthRevoked):
            await connector.refresh(refreshed)


@pytest.mark.parametrize(
    ("configured", "listed"),
    [
        ("https://acme.atlassian.net", "https://Acme.Atlassian.NET/"),
        ("https://ACME.atlassian.net/jira/", "https://acme.atlassian.net"),
        ("http://acme.atlassian.net", "https://acme.atlassian.net:443"),
    ],
)
async def test_the_cloud_id_is_found_by_the_sites_host(
    rsa_keys: tuple[str, str], http: httpx.AsyncClient, configured: str, listed: str
) -> None:
    for setup in jira_setup("cloud", "oauth2", *rsa_keys):
        fake = setup.fake
        fake.site_url = listed
        fake.other_sites = [{"id": "0000-other", "url": "https://acme-sandbox.atlassian.net", "name": "sandbox",
                             "scopes": ["read:jira-work"], "avatarUrl": ""}]  # fmt: skip
        context = setup.connector(http).context
        connector = JiraConnector(type(context)(**{**context.__dict__, "base_url": configured}))
        credentials = setup.credentials()
        credentials.site_id = None
        refreshed = await connector.refresh(credentials)
        assert refreshed.site_id == fake.cloud_id


async def test_data_center_oauth1_links_with_the_private_key(
    rsa_keys: tuple[str, str], http: httpx.AsyncClient
) -> None:
    for setup in jira_setup("datacenter", "oauth1", *rsa_keys):
        setup.fake.consenting_user = setup.user.id
        connector = setup.connector(http)
        start = await connector.authorization_url("state-9")
        assert start.url.startswith(f"{setup.fake.base_url}/plugins/servlet/oauth/authorize?oauth_token=")
        async with httpx.AsyncClient() as browser:
            redirect = await browser.get(start.url)
        callback = parse_qs(urlsplit(redirect.headers["location"]).query)
        assert callback["state"] == ["state-9"]
        credentials = await connector.exchange_code(callback["oauth_verifier"][0], start.code_verifier)
        assert (await connector.account(credentials)).id == setup.user.id
        with pytest.raises(AuthRevoked):
            await connector.refresh(credentials)
        # Another key pair (an application link set up with a different public key) is refused.
        other = JiraConnector(
            type(connector.context)(**{**connector.context.__dict__, "secrets": {"private_key": rsa_other_key()}})
        )
        with pytest.raises(AuthExpired, match="401"):
            await other.account(credentials)


def rsa_other_key() -> str:
    from tests.plugins.jira.fake_jira import rsa_key_pair

    return rsa_key_pair()[0]


async def test_scoped_api_tokens_go_through_atlassians_gateway(cloud: JiraSetup, http: httpx.AsyncClient) -> None:
    fake = cloud.fake
    robot = fake.add_user("robot")
    robot.scoped = True
    # The site itself refuses a scoped token.
    on_site = await http.get(f"{fake.base_url}/rest/api/3/myself", auth=(robot.email, robot.token))
    assert on_site.status_code == 401
    connector = cloud.connector(http)
    credentials = Credentials(access_token=robot.token, login=robot.email)
    account = await connector.account(credentials)
    assert (account.id, credentials.site_id) == (robot.id, fake.cloud_id)
    credentials.account_id, credentials.timezone = account.id, account.timezone
    created = await connector.create_worklog(credentials, draft("scoped", date(2026, 11, 24), time(9, 0)))
    assert fake.worklogs[created.id].author == robot.id
    # An unscoped token stays on the site and keeps no cloud id.
    plain = Credentials(access_token=cloud.user.token, login=cloud.user.email)
    assert (await connector.account(plain)).id == cloud.user.id
    assert plain.site_id is None
    # A wrong token is refused on both ways.
    with pytest.raises(AuthExpired):
        await connector.account(Credentials(access_token="wrong", login=robot.email))


def test_api_tokens_need_the_login(cloud: JiraSetup) -> None:
    connector = cloud.connector(httpx.AsyncClient())
    with pytest.raises(AuthRevoked, match="e-mail"):
        connector._auth_headers("GET", "http://x", b"", Credentials(access_token="t"))
