"""What is particular to Redmine, against the real Redmine 5: admin mode, activities, comments, the pull window."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from gateway.connectors import AuthExpired, AuthRevoked, Credentials, Rejected, WebhookEventKind, WorklogDraft
from gateway.core.tickets import normalise_ticket
from tests.plugins.redmine.conftest import RedmineProject, redmine_connector, redmine_webhook
from tests.redmine_server import RedmineServer

TODAY = datetime.now(UTC).date()


def draft(
    project: RedmineProject, marker: str = "entry-1", description: str = "Work", **values: object
) -> WorklogDraft:
    return WorklogDraft(
        marker=marker,
        ticket=f"#{project.issue}",
        day=values.pop("day", TODAY),  # type: ignore[arg-type]
        start=time(9, 0),
        minutes=values.pop("minutes", 90),  # type: ignore[arg-type]
        description=description,
        activity=values.pop("activity", "Development"),  # type: ignore[arg-type]
    )


def user_credentials(project: RedmineProject) -> Credentials:
    return Credentials(access_token=project.user.api_key)


async def test_a_wrong_api_key_is_refused_by_the_account_check(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http)
    account = await connector.account(user_credentials(project))
    assert account.id == str(project.user.id)
    with pytest.raises(AuthExpired, match="401"):
        await connector.account(Credentials(access_token="0" * 40))


async def test_admin_mode_acts_as_the_user_by_login(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http, auth="admin", secrets={"admin_api_key": redmine.admin_key})
    as_user = Credentials(access_token=project.user.login)
    assert (await connector.account(as_user)).id == str(project.user.id)
    created = await connector.create_worklog(as_user, draft(project))
    assert created.author_id == str(project.user.id)  # booked as the user, not as the admin
    with pytest.raises(AuthRevoked, match="412"):
        await connector.account(Credentials(access_token="no-such-login"))


async def test_the_activity_map_is_checked_when_the_config_is_saved(
    redmine: RedmineServer, http: httpx.AsyncClient
) -> None:
    await redmine_connector(redmine.url, http, secrets={}).check_config()
    wrong = redmine_connector(redmine.url, http)
    wrong.context.config.activity_map["Meeting"] = 424242  # type: ignore[attr-defined]
    with pytest.raises(Rejected, match="no active Redmine activity with id 424242"):
        await wrong.check_config()


async def test_hours_dates_activity_and_comments_land_as_redmine_shows_them(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http)
    long_text = "x" * 2000
    created = await connector.create_worklog(
        user_credentials(project), draft(project, minutes=20, description=long_text)
    )
    [entry] = redmine.time_entries(issue=project.issue)
    assert (entry["hours"], entry["spent_on"], entry["activity"]["name"]) == (0.33, TODAY.isoformat(), "Development")
    assert len(entry["comments"]) == 1024
    assert entry["comments"].endswith(" [tt:entry-1]")
    assert (created.minutes, created.marker, created.start) == (20, "entry-1", None)


async def test_a_missing_activity_is_redmines_own_validation_error(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http, activity_map={}, default_activity_id=None)
    with pytest.raises(Rejected, match="Activity cannot be blank"):
        await connector.create_worklog(user_credentials(project), draft(project, activity="Meeting"))


async def test_an_entry_moved_out_of_the_window_is_not_taken_for_deleted(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http, pull_window_days=30)
    credentials = user_credentials(project)
    created = await connector.create_worklog(credentials, draft(project, day=TODAY - timedelta(days=2)))
    first = await connector.pull_worklogs(credentials, None, None)
    assert created.id in {w.id for w in first.worklogs}

    redmine.ok(
        "PUT",
        f"/time_entries/{created.id}.json",
        key=project.user.api_key,
        json={"time_entry": {"spent_on": (TODAY - timedelta(days=90)).isoformat()}},
    )
    moved = await connector.pull_worklogs(credentials, first.cursor, None)
    assert moved.deleted_ids == []
    assert [(w.id, w.day) for w in moved.worklogs] == [(created.id, TODAY - timedelta(days=90))]

    back = await connector.pull_worklogs(credentials, moved.cursor, None)
    assert back.worklogs == []  # nothing changed since

    recent = await connector.create_worklog(credentials, draft(project, marker="entry-2"))
    seen = await connector.pull_worklogs(credentials, back.cursor, None)
    redmine.ok("DELETE", f"/time_entries/{recent.id}.json")
    gone = await connector.pull_worklogs(credentials, seen.cursor, None)
    assert gone.deleted_ids == [recent.id]


async def test_an_edit_in_the_same_second_is_still_seen(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http)
    credentials = user_credentials(project)
    created = await connector.create_worklog(credentials, draft(project))
    read = await connector.pull_worklogs(credentials, None, None)
    redmine.ok("PUT", f"/time_entries/{created.id}.json", key=project.user.api_key, json={"time_entry": {"hours": 3}})
    again = await connector.pull_worklogs(credentials, read.cursor, None)
    assert [(w.id, w.minutes) for w in again.worklogs] == [(created.id, 180)]


def test_webhooks_of_redmine_7_are_verified_and_parsed(redmine: RedmineServer, http: httpx.AsyncClient) -> None:
    connector = redmine_connector(redmine.url, http)
    headers, body = redmine_webhook(
        "time_entry.created", {"time_entry": {"id": 5, "issue": {"id": 7}, "user": {"id": 3}, "hours": 1.0}}
    )
    lower = {k.lower(): v for k, v in headers.items()}
    assert connector.verify_webhook(lower, body)
    delivery = connector.parse_webhook(lower, body)
    [event] = delivery.events
    assert (event.kind, event.ticket_key, event.account_id) == (WebhookEventKind.WORKLOG_CHANGED, "#7", "3")
    # No delivery id from Redmine: the same body is the same delivery.
    assert connector.parse_webhook(lower, body).delivery_id == delivery.delivery_id
    forged_headers, _ = redmine_webhook("time_entry.created", {}, secret="guess")
    assert not connector.verify_webhook({k.lower(): v for k, v in forged_headers.items()}, body)


def test_bare_numbers_and_hashes_name_the_same_issue() -> None:
    assert normalise_ticket(" 42 ") == normalise_ticket("#42") == "#42"


async def test_tickets_are_searched_by_number_and_subject(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http)
    other = redmine.create_issue(project.identifier, subject="Quarterly invoice export")
    by_subject = await connector.search_tickets(user_credentials(project), "invoice EXP", 10)
    assert [ticket.key for ticket in by_subject] == [f"#{other}"]
    assert by_subject[0].summary == "Quarterly invoice export"
    assert by_subject[0].status  # Redmine's default status, by name
    by_number = await connector.search_tickets(user_credentials(project), str(other), 10)
    assert [ticket.key for ticket in by_number] == [f"#{other}"]
    assert await connector.search_tickets(user_credentials(project), "#99999999", 10) == []
    assert await connector.search_tickets(user_credentials(project), "no issue has such a subject", 10) == []


async def test_changed_tickets_are_those_updated_since_a_time(
    redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient
) -> None:
    connector = redmine_connector(redmine.url, http, page_size=2)
    before = datetime.now(UTC) - timedelta(seconds=2)
    made = [redmine.create_issue(project.identifier, subject=f"Changed {n}") for n in range(3)]
    redmine.ok("PUT", f"/issues/{project.issue}.json", json={"issue": {"subject": "Renamed in Redmine"}})
    changed = await connector.changed_tickets(user_credentials(project), before)
    by_key = {ticket.key: ticket for ticket in changed}
    assert {f"#{n}" for n in [*made, project.issue]} <= set(by_key)  # read over several pages of 2
    assert by_key[f"#{project.issue}"].summary == "Renamed in Redmine"
    assert all(
        ticket.updated_at is not None and ticket.updated_at >= before.replace(microsecond=0) for ticket in changed
    )
    assert await connector.changed_tickets(user_credentials(project), datetime.now(UTC) + timedelta(days=1)) == []
