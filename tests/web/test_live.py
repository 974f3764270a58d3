"""Live updates survive a dropped connection: the page reconnects and catches up on what it missed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Browser, expect

from gateway.core.entries import EntryUpdate, update_entry
from gateway.core.enums import UserType
from tests.support import run_in_session
from tests.web.support import DESKTOP, Company, GatewayServer, PageWatch, log_in

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_page_that_lost_its_server_reconnects_and_shows_what_happened_meanwhile(
    browser: Browser, company: Company, gateway_env: dict[str, str], tmp_path: Path, watch: PageWatch
) -> None:
    await company.build(("pia", UserType.DEV))
    first = await company.book("pia", date.today(), "09:00", "11:00", description="Before")
    server = GatewayServer(gateway_env, tmp_path / "serve.log").start()
    context = await browser.new_context(base_url=server.url, viewport=DESKTOP)
    context.on("page", watch.watch)
    try:
        page = await context.new_page()
        await log_in(page, company.people["pia"])
        status = page.locator("#live-status")
        await expect(status).to_have_attribute("data-state", "live")
        await expect(page.locator(f"#entry-{first}")).to_be_visible()
        await page.evaluate("window.stillTheSamePage = true")

        # The server crashes; while it is gone, the entry is changed and another one booked (another process).
        watch.expect_dropped("/live")
        server.kill()
        await expect(status).not_to_have_attribute("data-state", "live")

        async def change(session: Any) -> None:
            await update_entry(
                session, company.people["pia"].caller, first, EntryUpdate(version=1, description="After")
            )

        await run_in_session(company.database_url, change)
        later = await company.book("pia", date.today(), "13:00", "14:00", description="Booked elsewhere")

        # Back again: the page reconnects on its own and reads what it missed.
        server.start()
        await expect(status).to_have_attribute("data-state", "live", timeout=20_000)
        await expect(page.locator(f"#entry-{first} .description")).to_have_text("After")
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
