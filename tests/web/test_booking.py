"""Booking in "My week" with the keyboard, and sync states that change live while a real worker pushes."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect

from gateway.core.enums import UserType
from tests.support import Workers
from tests.web.support import DASH, PASSWORD, Company, PageWatch, iso_week, log_in

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

pytestmark = pytest.mark.asyncio(loop_scope="session")
SYNC_WITHIN_MS = 45_000


async def book_with_keyboard(page: Page, *, end: str, ticket: str, description: str, start: str | None = None,
                             project: str | None = None, activity: str | None = None) -> None:  # fmt: skip
    """From the start field of the new-entry form: Tab through the fields, Enter saves."""
    keyboard = page.keyboard
    if start is not None:
        await keyboard.type(start)
    await keyboard.press("Tab")  # end
    await keyboard.type(end)
    await keyboard.press("Tab")  # duration (follows from start and end)
    await keyboard.press("Tab")  # project
    if project is not None:
        await keyboard.type(project)
    await keyboard.press("Tab")  # ticket
    await keyboard.type(ticket)
    await keyboard.press("Tab")  # activity
    if activity is not None:
        await keyboard.type(activity)
    await keyboard.press("Tab")  # description
    await keyboard.type(description)
    await keyboard.press("Enter")


async def test_three_entries_booked_with_the_keyboard_turn_synced_live_when_a_worker_pushes_them(
    page: Page, company: Company, tasklog: FakeTasklog, workers: Workers
) -> None:
    await company.build(("ada", UserType.DEV))
    await company.link_tasklog("ada", tasklog, connected=True)
    ada = company.people["ada"]

    # Log in with the keyboard: the username field has the focus.
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login"))
    await page.keyboard.type(ada.username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(rf"/week/{iso_week(date.today())}$"))
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

    # N: a new entry. The day field has the focus, and the day is today.
    await page.keyboard.press("n")
    await expect(page.locator("#new-day")).to_be_focused()
    await expect(page.locator("#new-day")).to_have_value(date.today().isoformat())
    await page.keyboard.press("Tab")
    await book_with_keyboard(
        page,
        start="0900",
        end="1030",
        project=company.name("Website"),
        ticket="TL-1",
        activity=company.name("Development"),
        description="Login form",
    )
    today = page.locator(f'section.day[data-day="{date.today().isoformat()}"]')
    await expect(today.locator("li.entry")).to_have_count(1)
    # Ready for the next one: the start is where the last one ended, and it has the focus.
    await expect(page.locator("#new-start")).to_be_focused()
    await expect(page.locator("#new-start")).to_have_value("10:30")
    await book_with_keyboard(page, end="12:00", ticket="TL-2", description="Invoice totals")
    await expect(today.locator("li.entry")).to_have_count(2)
    # Alt+C copies the previous entry, starting where it ended; Enter books it.
    await page.keyboard.press("Alt+KeyC")
    await expect(page.locator("#new-ticket")).to_have_value("TL-2")
    await expect(page.locator("#new-start")).to_have_value("12:00")
    await expect(page.locator("#new-end")).to_have_value("13:30")
    await page.keyboard.press("Enter")
    await expect(today.locator("li.entry")).to_have_count(3)

    rows = today.locator("li.entry")
    await expect(rows.locator(".time")).to_have_text([f"09:00{DASH}10:30", f"10:30{DASH}12:00", f"12:00{DASH}13:30"])
    await expect(rows.locator('[data-sync="pending"]')).to_have_count(3)
    await expect(today.locator(".day-total strong")).to_have_text("4:30")
    assert {e.ticket for e in await company.entries_of("ada")} == {"TL-1", "TL-2"}

    # A real worker pushes them; the page learns of it without a reload.
    await page.evaluate("window.stillTheSamePage = true")
    workers.start()
    await expect(rows.locator('[data-sync="synced"]')).to_have_count(3, timeout=SYNC_WITHIN_MS)
    assert await page.evaluate("window.stillTheSamePage") is True
    await expect(page.locator("#announcer")).to_contain_text("synced")
    with tasklog.lock:
        assert sorted((w["issue"], w["start"], w["minutes"]) for w in tasklog.worklogs.values()) == [
            ("TL-1", "09:00", 90),
            ("TL-2", "10:30", 90),
            ("TL-2", "12:00", 90),
        ]


async def test_a_refused_push_shows_the_trackers_reason_on_the_entry(
    page: Page, company: Company, tasklog: FakeTasklog, workers: Workers
) -> None:
    await company.build(("bob", UserType.DEV))
    await company.link_tasklog("bob", tasklog, connected=True)
    await company.book("bob", date.today(), "08:00", "09:00", ticket="TL-2", description="Invoices")
    with tasklog.lock:
        del tasklog.issues["TL-2"]  # gone from the tracker before the worker gets to it

    await log_in(page, company.people["bob"])
    row = page.locator("li.entry")
    await expect(row.locator('[data-sync="pending"]')).to_be_visible()
    workers.start()
    await expect(row.locator('[data-sync="failed"]')).to_be_visible(timeout=SYNC_WITHIN_MS)
    await expect(row.locator("[data-sync-error]")).to_contain_text("issue TL-2 does not exist")


async def test_page_watch_sees_console_errors(page: Page, watch: PageWatch) -> None:
    """The watch that every browser test relies on does fail a test: here on a script error."""
    await page.goto("/login")
    await page.evaluate("setTimeout(() => { throw new Error('boom'); }, 0)")
    await page.wait_for_timeout(100)
    assert any("boom" in problem for problem in watch.problems)
    watch.problems.clear()
