"""How the pages look and read: screenshots of each at desktop and phone width, labels on every field, visible
focus, and no sideways scrolling on a phone or at 200 % zoom."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect

from gateway.core.enums import SyncState, UserType
from tests.web.support import (
    PHONE,
    Company,
    PageWatch,
    log_in,
    no_horizontal_scroll,
    screenshots,
    this_week,
    unlabelled_fields_script,
)

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

pytestmark = pytest.mark.asyncio(loop_scope="session")
# 200 % zoom of a 1280 pixel wide window leaves 640 CSS pixels.
ZOOMED = {"width": 640, "height": 430}


async def a_busy_week(company: Company, tasklog: FakeTasklog) -> dict[str, int]:
    """A week as it looks after a few days of work: synced, pending, refused and conflicting entries."""
    await company.build(("ada", UserType.DEV, "Ada Lovelace"))
    await company.link_tasklog("ada", tasklog, connected=True)
    await company.add_contract("ada", Decimal(8), start=this_week()[0])
    await company.add_preset("Vacation", "vacation", "Vacation")
    for key, summary, status in (
        ("TL-1", "Login page redesign", "in progress"),
        ("TL-2", "Invoice totals are rounded twice", "open"),
        ("WEB-7", "Cookie banner text", "review"),
    ):
        await company.cache_ticket(key, summary, status)
    days = [day for day in this_week()[:5] if day <= date.today()] or this_week()[:2]
    ids: dict[str, int] = {}
    plan = [
        ("08:30", "10:00", "TL-1", "development", "Form layout", SyncState.SYNCED),
        ("10:00", "10:15", "", "meeting", "Daily standup", None),
        ("10:30", "12:30", "TL-2", "development", "Rounding in the totals", SyncState.SYNCED),
        ("13:15", "16:45", "TL-1", "development", "Validation messages", SyncState.PENDING),
    ]
    for n, day in enumerate(days):
        for start, end, ticket, activity, description, state in plan:
            entry_id = await company.book(
                "ada", day, start, end, ticket=ticket, description=description, activity_id=company.ids[activity]
            )
            if state is not None and (n < len(days) - 1 or state is not SyncState.PENDING):
                await company.set_sync_state(entry_id, SyncState.SYNCED)
            ids.setdefault(f"{start}-{n}", entry_id)
    last = len(days) - 1
    ids["overlap"] = await company.book(
        "ada",
        days[last],
        "16:30",
        "17:30",
        ticket="WEB-7",
        description="Banner copy",
        activity_id=company.ids["meeting"],
    )
    await company.set_sync_state(
        ids["10:30-0"],
        SyncState.FAILED,
        error=f"create the worklog of entry {ids['10:30-0']}: the tracker refused it (422): TL-2 is closed for booking",
    )
    await company.set_sync_state(
        ids["08:30-0"],
        SyncState.CONFLICT,
        remote={"ticket": "TL-1", "day": days[0].isoformat(), "start": "08:30", "minutes": 120,
                "description": "Form layout and review"},
    )  # fmt: skip
    return ids


async def test_screenshots_of_every_page_at_desktop_and_phone_width(
    page: Page, company: Company, tasklog: FakeTasklog, watch: PageWatch, web_output: Path
) -> None:
    company.plain = True
    ids = await a_busy_week(company, tasklog)
    await page.goto("/login")
    await screenshots(page, web_output, "login")

    await log_in(page, company.people["ada"])
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    await expect(page.locator('[data-sync="conflict"]')).to_have_count(1)
    await screenshots(page, web_output, "week")
    await page.locator(f"#entry-{ids['13:15-0']} [data-edit]").click()
    await page.locator("#bulk summary").click()
    await screenshots(page, web_output, "week-editing")

    await page.goto(f"/entries/{ids['10:30-0']}")
    await screenshots(page, web_output, "entry")

    await page.goto("/ticket-systems")
    await expect(page.locator("article.conflict")).to_have_count(1)
    await screenshots(page, web_output, "ticket-systems")

    watch.expect_status(404, "/no-such-page")
    await page.goto("/no-such-page")
    await screenshots(page, web_output, "not-found")

    for name in ("login", "week", "week-editing", "entry", "ticket-systems", "not-found"):
        for width in ("desktop", "phone"):
            assert (web_output / f"{name}-{width}.png").stat().st_size > 10_000


async def test_every_field_has_a_label_and_the_pages_fit_a_phone_and_200_percent_zoom(
    page: Page, company: Company, tasklog: FakeTasklog
) -> None:
    ids = await a_busy_week(company, tasklog)
    await page.goto("/login")
    assert await page.evaluate(unlabelled_fields_script()) == []
    await log_in(page, company.people["ada"])

    async def open_everything() -> None:
        if "/week/" in page.url:
            await page.locator(f"#entry-{ids['13:15-0']} [data-edit]").click()
            await page.locator("#bulk summary").click()

    for path in (page.url, f"/entries/{ids['10:30-0']}", "/ticket-systems", "/login"):
        for size in (PHONE, ZOOMED):
            await page.set_viewport_size(size)
            await page.goto(path)
            await open_everything()
            assert await page.evaluate(unlabelled_fields_script()) == [], path
            assert await no_horizontal_scroll(page), f"{path} scrolls sideways at {size['width']} pixels"


async def test_the_keyboard_focus_is_always_visible(page: Page, company: Company) -> None:
    await company.build(("ben", UserType.USER))
    await log_in(page, company.people["ben"])
    outlines = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        outlines.append(
            await page.evaluate(
                """(() => { const style = getComputedStyle(document.activeElement);
                            return [document.activeElement.tagName, style.outlineStyle, style.outlineWidth]; })()"""
            )
        )
    assert all(style != "none" and width != "0px" for _tag, style, width in outlines), outlines
    # The first stop is the way past the navigation.
    assert outlines[0][0] == "A"
    assert await page.evaluate("document.activeElement.closest('main') !== null")
