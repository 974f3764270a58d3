""" "My ticket systems": connecting through the OAuth redirect or with a personal token, sync now, disconnecting,
and settling conflicts from the queue."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from gateway.core.enums import SyncState, UserType
from gateway.core.models import Link
from tests.support import Workers, run_in_session
from tests.web.support import Company, PageWatch, log_in

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

pytestmark = pytest.mark.asyncio(loop_scope="session")
SYNC_WITHIN_MS = 45_000


async def test_connecting_an_oauth2_system_goes_through_the_trackers_authorisation_and_back(
    page: Page, company: Company, tasklog: FakeTasklog
) -> None:
    await company.build(("cy", UserType.DEV))
    await company.link_tasklog("cy", tasklog, connected=False)
    await log_in(page, company.people["cy"], next_path="/ticket-systems")

    card = page.locator("li.link-card")
    await expect(card.get_by_role("heading")).to_have_text(company.name("Tasklog"))
    await expect(card.get_by_test_id("link-state")).to_have_text("Not connected")
    await card.get_by_role("button", name=re.compile(r"^Connect")).click()

    # The fake authorisation server approves at once and sends the browser back through the gateway's callback.
    await expect(page).to_have_url(re.compile(r"/ticket-systems\?ticket_system=\d+&status=connected$"))
    await expect(page.get_by_test_id("connect-outcome")).to_have_text(f"{company.name('Tasklog')} is connected.")
    await expect(card.get_by_test_id("link-state")).to_have_text("Connected")
    await expect(card).to_contain_text("u1")  # the account there
    assert tasklog.count("authorize") == 1
    assert tasklog.count("token:authorization_code") == 1

    # The tracker stops accepting the grant (a refused refresh marks the link): the page offers to reconnect.
    await run_in_session(
        company.database_url,
        lambda session: session.execute(
            update(Link).where(Link.user_id == company.people["cy"].id).values(needs_reconnect=True)
        ),
    )
    await page.goto("/ticket-systems")
    await expect(card.get_by_test_id("link-state")).to_have_text("Reconnect needed")
    await card.get_by_role("button", name=re.compile(r"^Reconnect")).click()
    await expect(page.get_by_test_id("connect-outcome")).to_have_text(f"{company.name('Tasklog')} is connected.")
    await expect(card.get_by_test_id("link-state")).to_have_text("Connected")
    assert tasklog.count("token:authorization_code") == 2


async def test_a_personal_token_is_checked_and_a_wrong_one_is_refused_next_to_its_field(
    page: Page, company: Company, tasklog: FakeTasklog, watch: PageWatch
) -> None:
    await company.build(("dee", UserType.USER))
    await company.link_tasklog("dee", tasklog, connected=False, kind="tasklog-token")
    await log_in(page, company.people["dee"], next_path="/ticket-systems")
    card = page.locator("li.link-card")
    key = card.get_by_label("API key or personal token")

    watch.expect_status(422, "/api/me/ticket-systems/")
    await key.fill("not-a-token")
    await key.press("Enter")
    error = card.locator(".field-error:not([hidden])")
    await expect(error).to_have_text(re.compile("did not accept this API key"))
    await expect(key).to_have_attribute("aria-invalid", "true")
    await expect(key).to_be_focused()

    token, _refresh = tasklog.issue_tokens("u2", lifetime=3600)
    await key.fill(token)
    await key.press("Enter")
    await expect(card.get_by_test_id("link-state")).to_have_text("Connected")
    await expect(card).to_contain_text("u2")

    await card.get_by_role("button", name=re.compile(r"^Sync now")).click()
    await expect(page.locator("#ts-status")).to_have_text(re.compile("Sync requested"))

    page.once("dialog", lambda dialog: dialog.accept())
    await card.get_by_role("button", name=re.compile(r"^Disconnect")).click()
    await expect(card.get_by_test_id("link-state")).to_have_text("Not connected")


async def test_conflicts_are_created_by_edits_on_both_sides_and_settled_from_the_queue(
    page: Page, company: Company, tasklog: FakeTasklog, workers: Workers, watch: PageWatch
) -> None:
    await company.build(("eve", UserType.DEV))
    await company.link_tasklog("eve", tasklog, connected=True)
    mine = await company.book("eve", date.today(), "08:00", "09:00", ticket="TL-1", description="Planning")
    theirs = await company.book("eve", date.today(), "09:00", "10:00", ticket="TL-1", description="Review")
    workers.start()
    await log_in(page, company.people["eve"])
    rows = page.locator("li.entry")
    await expect(rows.locator('[data-sync="synced"]')).to_have_count(2, timeout=SYNC_WITHIN_MS)

    # While no worker runs, someone changes both worklogs in Tasklog and the user both entries here, in the same
    # field; the next sync finds both sides changed.
    workers.stop_all()
    with tasklog.lock:
        by_start = {w["start"]: w["id"] for w in tasklog.worklogs.values()}
    tasklog.edit_worklog(by_start["08:00"], note="Planning (Tasklog)")
    tasklog.edit_worklog(by_start["09:00"], note="Review (Tasklog)")
    for row, text in (
        (page.locator(f"#entry-{mine}"), "Planning (here)"),
        (page.locator(f"#entry-{theirs}"), "Review (here)"),
    ):
        await row.get_by_role("button", name=re.compile(r"^Edit")).click()
        description = row.get_by_label("Description")
        await description.fill(text)
        await description.press("Enter")
        await expect(row.locator(".description")).to_have_text(text)
    await expect(rows.locator('[data-sync="pending"]')).to_have_count(2)
    workers.start()
    await expect(rows.locator('[data-sync="conflict"]')).to_have_count(2, timeout=SYNC_WITHIN_MS)

    # The badge leads to the queue, with both versions side by side.
    await page.locator(f"#entry-{mine}").get_by_role("link", name=re.compile("Conflict")).click()
    await expect(page).to_have_url(re.compile(rf"/ticket-systems#conflict-{mine}$"))
    await expect(page.get_by_test_id("conflict-count")).to_have_text("2")
    first = page.locator(f"#conflict-{mine}")
    differing = first.locator("tr.differs")
    await expect(differing.locator("th")).to_have_text(["Description"])
    await expect(differing.locator('[data-side="local"]')).to_have_text("Planning (here)")
    await expect(differing.locator('[data-side="remote"]')).to_have_text("Planning (Tasklog)")

    await first.get_by_role("button", name="Keep mine").click()
    await expect(first).to_have_count(0)
    second = page.locator(f"#conflict-{theirs}")
    await second.get_by_role("button", name="Take theirs").click()
    await expect(second).to_have_count(0)
    await expect(page.get_by_test_id("conflict-count")).to_have_text("0")

    # Mine is pushed to Tasklog; theirs is now the entry's.
    await page.get_by_role("link", name="My week").click()
    await expect(page.locator(f"#entry-{theirs} .description")).to_have_text("Review (Tasklog)")
    await expect(rows.locator('[data-sync="synced"]')).to_have_count(2, timeout=SYNC_WITHIN_MS)
    with tasklog.lock:
        assert tasklog.worklogs[by_start["08:00"]]["note"].startswith("Planning (here)")
    states = {entry.id: entry.sync_state for entry in await company.entries_of("eve")}
    assert states == {mine: SyncState.SYNCED, theirs: SyncState.SYNCED}
