"""Live updates survive a dropped connection: the page reconnects and catches up on what it missed."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, expect

from gateway.core.enums import SyncState, UserType
from tests.support import Workers
from tests.web.support import DESKTOP, Company, GatewayServer, PageWatch, log_in

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_page_that_lost_its_server_reconnects_and_shows_what_happened_meanwhile(
    browser: Browser,
    company: Company,
    tasklog: FakeTasklog,
    workers: Workers,
    gateway_env: dict[str, str],
    tmp_path: Path,
    watch: PageWatch,
) -> None:
    await company.build(("pia", UserType.DEV))
    await company.link_tasklog("pia", tasklog, connected=True)
    entry_id = await company.book("pia", date.today(), "09:00", "11:00", ticket="TL-1", description="Before")
    server = GatewayServer(gateway_env, tmp_path / "serve.log").start()
    context = await browser.new_context(base_url=server.url, viewport=DESKTOP)
    context.on("page", watch.watch)
    try:
        page = await context.new_page()
        await log_in(page, company.people["pia"])
        status = page.locator("#live-status")
        await expect(status).to_have_attribute("data-state", "live")
        row = page.locator(f"#entry-{entry_id}")
        await expect(row.locator('[data-sync="pending"]')).to_be_visible()
        await page.evaluate("window.stillTheSamePage = true")

        # The server goes away; while it is gone, a worker syncs the entry and another one is booked.
        watch.expect_dropped("/live")
        server.stop()
        await expect(status).not_to_have_attribute("data-state", "live")
        workers.start()
        deadline = time.monotonic() + 45
        while {e.id: e.sync_state for e in await company.entries_of("pia")}[entry_id] is not SyncState.SYNCED:
            assert time.monotonic() < deadline, "the worker did not sync the entry"
            await asyncio.sleep(0.2)
        later = await company.book("pia", date.today(), "13:00", "14:00", description="Booked elsewhere")

        # Back again: the page reconnects on its own and reads what it missed.
        server.start()
        await expect(status).to_have_attribute("data-state", "live", timeout=20_000)
        await expect(row.locator('[data-sync="synced"]')).to_be_visible()
        await expect(page.locator(f"#entry-{later} .description")).to_have_text("Booked elsewhere")
        assert await page.evaluate("window.stillTheSamePage") is True
        watch.check()
    finally:
        await context.close()
        server.stop()


async def test_without_redis_the_api_process_syncs_and_its_pages_update_in_process(
    browser: Browser,
    company: Company,
    tasklog: FakeTasklog,
    gateway_env: dict[str, str],
    tmp_path: Path,
    watch: PageWatch,
) -> None:
    """The embedded default (`make run`): no Redis, no workers; the API runs the sync jobs and tells its pages."""
    await company.build(("quinn", UserType.DEV))
    await company.link_tasklog("quinn", tasklog, connected=True)
    env = {name: value for name, value in gateway_env.items() if name != "REDIS_URL"}
    server = GatewayServer(env, tmp_path / "serve.log").start()
    context = await browser.new_context(base_url=server.url, viewport=DESKTOP)
    context.on("page", watch.watch)
    try:
        page = await context.new_page()
        await log_in(page, company.people["quinn"])
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        await page.keyboard.press("n")
        await page.keyboard.press("Tab")
        await page.keyboard.type("0800")
        await page.keyboard.press("Tab")
        await page.keyboard.type("0945")
        await page.locator("#new-project").select_option(label=company.name("Website"))
        await page.locator("#new-ticket").fill("TL-1")
        await page.locator("#new-activity").select_option(label=company.name("Development"))
        await page.locator("#new-description").fill("Booked without Redis")
        tasklog.stall_next_create_seconds = 2  # so that the page shows the entry pending before it is synced
        await page.locator("#new-description").press("Enter")
        await expect(page.locator('li.entry [data-sync="pending"]')).to_be_visible()
        await expect(page.locator('li.entry [data-sync="synced"]')).to_be_visible(timeout=30_000)
        with tasklog.lock:
            assert [w["note"] for w in tasklog.worklogs.values()] == ["Booked without Redis"]
        watch.check()
    finally:
        await context.close()
        server.stop()
