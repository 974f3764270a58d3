"""The ADMIN's pages: a ticket system made through its connector's generated config form, the link matrix and
the user who then finds the system and connects, the sync overview following a worker live, the plugins page,
and the 404 page for anyone else."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from gateway.core.enums import UserType
from tests.support import Workers
from tests.web.support import (
    DESKTOP,
    PHONE,
    Company,
    GatewayServer,
    PageWatch,
    log_in,
    no_horizontal_scroll,
    screenshots,
    unlabelled_fields_script,
)

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

pytestmark = pytest.mark.asyncio(loop_scope="session")
SYNC_WITHIN_MS = 45_000


@pytest_asyncio.fixture(loop_scope="session")
async def other_context(browser: Browser, gateway: GatewayServer, watch: PageWatch) -> AsyncIterator[BrowserContext]:
    """A second browser (another person's), watched like the first."""
    made = await browser.new_context(base_url=gateway.url, viewport=DESKTOP, locale="en-GB", timezone_id="UTC")
    made.set_default_timeout(10_000)
    made.on("page", watch.watch)
    yield made
    await made.close()


async def test_admin_creates_a_ticket_system_through_its_generated_form_and_enables_a_users_link(
    page: Page,
    other_context: BrowserContext,
    company: Company,
    tasklog: FakeTasklog,
    watch: PageWatch,
    web_output: Path,
) -> None:
    await company.build(("ada", UserType.ADMIN), ("cy", UserType.DEV))
    await log_in(page, company.people["ada"], next_path="/admin/ticket-systems/new")

    # The connector's own fields come from its JSON Schema: a required client id, a bounded page size.
    await page.get_by_label("Connector").select_option("tasklog")
    client_id = page.get_by_label(re.compile(r"^Client id"))
    page_size = page.get_by_label(re.compile(r"^Page size"))
    await expect(page_size).to_have_value("100")  # the schema's default
    await expect(page.get_by_text("The OAuth app's client id")).to_be_visible()
    await page.get_by_label("Name", exact=True).fill(company.name("Tasklog"))
    await page.get_by_label("Address of the tracker").fill(tasklog.base_url)
    await client_id.fill(tasklog.client_id)
    await page_size.fill("501")
    await page.get_by_label(re.compile(r"^Client secret")).fill(tasklog.client_secret)
    await expect(page.get_by_label(re.compile(r"^Client secret"))).to_have_attribute("type", "password")

    watch.expect_status(422, "/api/ticket-systems")
    await page.get_by_role("button", name="Create ticket system").click()
    await expect(page_size).to_have_attribute("aria-invalid", "true")
    await expect(page_size).to_be_focused()
    error = page.locator(".field:has(input[name='config.page_size']) .field-error")
    await expect(error).to_have_text(re.compile(r"<= 500"))
    await screenshots(page, web_output, "admin-ticket-system-error")

    await page_size.fill("50")
    await page.get_by_role("button", name="Create ticket system").click()
    await expect(page).to_have_url(re.compile(r"/admin/ticket-systems/\d+\?created=1$"))
    system_id = int(re.findall(r"/admin/ticket-systems/(\d+)", page.url)[0])
    await expect(page.get_by_role("heading", level=1)).to_have_text(company.name("Tasklog"))
    await expect(page.get_by_test_id("webhook-url")).to_have_text(re.compile(rf"/api/webhooks/{system_id}$"))
    # Secrets are write-only: the form says one is stored, and never shows it.
    secret = page.get_by_label(re.compile(r"^Client secret"))
    await expect(secret).to_have_value("")
    await expect(page.locator("label[for='secret-client_secret']")).to_contain_text("stored")
    assert tasklog.client_secret not in await page.content()
    await expect(page.get_by_label(re.compile(r"^Page size"))).to_have_value("50")

    await page.get_by_role("button", name="Test connection").click()
    await expect(page.get_by_test_id("test-result")).to_have_attribute("data-ok", "true")
    await expect(page.get_by_test_id("test-result")).to_contain_text(tasklog.base_url)
    await screenshots(page, web_output, "admin-ticket-system")

    # Editing: a new webhook secret is stored without the client secret being sent again.
    await page.get_by_label(re.compile(r"^Page size")).fill("40")
    await page.get_by_label(re.compile(r"^Webhook secret")).fill("a webhook secret")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#system-status")).to_have_text("Saved.")
    await expect(page.locator("label[for='secret-webhook_secret']")).to_contain_text("stored")
    await expect(page.locator("label[for='secret-client_secret']")).to_contain_text("stored")
    await expect(page.get_by_label(re.compile(r"^Webhook secret"))).to_have_value("")
    await page.reload()
    await expect(page.get_by_label(re.compile(r"^Page size"))).to_have_value("40")

    # The matrix, filtered to the company's team: one click enables Cy's link.
    await page.get_by_role("link", name="Links").click()
    await page.get_by_label("Team").select_option(label=f"Team {company.tag}")
    await expect(page).to_have_url(re.compile(r"/admin/links\?team=\d+"))
    matrix = page.get_by_test_id("link-matrix")
    await expect(matrix.locator("tbody tr")).to_have_count(2)
    row = matrix.locator(f"tr[data-user='{company.people['cy'].id}']")
    cell = row.locator(f"td[data-system='{system_id}']")
    switch = cell.get_by_role("switch")
    await expect(switch).to_have_attribute("aria-checked", "false")
    await switch.click()
    await expect(cell.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    await expect(cell.get_by_test_id("cell-state")).to_have_text("Not connected")
    await expect(page.locator("#links-status")).to_have_text(re.compile(rf"^Enabled {company.name('Tasklog')}"))

    # Cy, in a browser of their own, finds the system and connects it through Tasklog's authorisation page.
    cy_page = await other_context.new_page()
    await log_in(cy_page, company.people["cy"], next_path="/ticket-systems")
    card = cy_page.locator("li.link-card", has_text=company.name("Tasklog"))
    await expect(card.get_by_test_id("link-state")).to_have_text("Not connected")
    await card.get_by_role("button", name=re.compile(r"^Connect")).click()
    await expect(cy_page.get_by_test_id("connect-outcome")).to_have_text(f"{company.name('Tasklog')} is connected.")
    assert tasklog.count("token:authorization_code") == 1

    # The admin's matrix follows live.
    await expect(cell.get_by_test_id("cell-state")).to_have_text("Connected")
    await screenshots(page, web_output, "admin-links")
    await page.set_viewport_size(PHONE)
    assert await no_horizontal_scroll(page)


async def test_the_sync_overview_turns_green_live_after_a_workers_run(
    page: Page, company: Company, tasklog: FakeTasklog, workers: Workers, web_output: Path
) -> None:
    await company.build(("ada", UserType.ADMIN), ("eve", UserType.DEV))
    system_id = await company.link_tasklog("eve", tasklog, connected=True)
    await company.book("eve", date.today(), "08:00", "09:00", ticket="TL-1", description="Planning")
    await log_in(page, company.people["ada"], next_path="/admin/sync")

    row = page.locator(f"tr[data-link='{company.people['eve'].id}:{system_id}']")
    await expect(row).to_have_attribute("data-health", "waiting")
    await expect(row.get_by_test_id("pending")).to_have_text("1")
    await expect(row.locator("td").nth(4).locator("time")).to_have_count(1)  # the oldest pending entry

    workers.start()
    await expect(row).to_have_attribute("data-health", "ok", timeout=SYNC_WITHIN_MS)
    await expect(row.get_by_test_id("health")).to_have_text("In sync")
    await expect(row.get_by_test_id("pending")).to_have_text("0")
    with tasklog.lock:
        assert len(tasklog.worklogs) == 1

    # "Sync now" asks for another run; the row follows it to the end.
    await row.get_by_role("button", name=re.compile("^Sync now")).click()
    await expect(page.locator("#sync-status")).to_have_text(re.compile("^Sync requested"))
    await expect(row).to_have_attribute("data-health", "ok", timeout=SYNC_WITHIN_MS)
    await screenshots(page, web_output, "admin-sync")
    await page.set_viewport_size(PHONE)
    assert await no_horizontal_scroll(page)


async def test_the_plugins_page_lists_the_installed_connectors(page: Page, company: Company, web_output: Path) -> None:
    await company.build(("ada", UserType.ADMIN))
    await log_in(page, company.people["ada"], next_path="/admin/plugins")
    table = page.get_by_test_id("plugins")
    tasklog = table.locator("tr", has=page.get_by_role("rowheader", name="tasklog", exact=True))
    await expect(tasklog).to_contain_text("OAuth 2")
    await expect(tasklog).to_contain_text("loaded")
    await expect(table.get_by_role("rowheader", name="redmine", exact=True)).to_be_visible()
    await screenshots(page, web_output, "admin-plugins")


@pytest.mark.parametrize("path", ["/admin/links", "/admin/sync", "/admin/ticket-systems/new", "/admin/plugins"])
async def test_a_dev_opening_an_admin_page_gets_the_404_page(
    page: Page, company: Company, watch: PageWatch, path: str
) -> None:
    await company.build(("dan", UserType.DEV))
    await log_in(page, company.people["dan"])
    await expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    watch.expect_status(404, path)
    response = await page.goto(path)
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not Found")
    await expect(page.get_by_text("This page does not exist, or it is not yours to see.")).to_be_visible()


async def test_every_admin_and_report_field_has_a_label_and_the_pages_fit_a_phone(
    page: Page, company: Company, tasklog: FakeTasklog
) -> None:
    await company.build(("ada", UserType.ADMIN), ("cy", UserType.DEV))
    system_id = await company.link_tasklog("cy", tasklog, connected=True)
    await log_in(page, company.people["ada"])
    zoomed = {"width": 640, "height": 800}  # a 1280-pixel screen at 200 %
    for path in (
        "/admin/links",
        "/admin/sync",
        "/admin/ticket-systems",
        "/admin/ticket-systems/new",
        f"/admin/ticket-systems/{system_id}",
        "/admin/plugins",
        "/admin/data/projects",
        "/admin/data/holidays",
        "/reports",
    ):
        for size in (PHONE, zoomed):
            await page.set_viewport_size(size)
            await page.goto(path)
            if path.startswith("/admin/ticket-systems/"):
                await expect(page.locator("#system-form")).to_have_attribute("data-ready", "true")
            if path.startswith("/admin/data/"):
                await expect(page.locator("#master-data")).to_have_attribute("data-ready", "true")
                await page.get_by_role("button", name=re.compile("^New")).click()
            if path == "/reports":
                await expect(page.locator("#time-result")).to_have_attribute("data-state", "ready")
            assert await page.evaluate(unlabelled_fields_script()) == [], path
            assert await no_horizontal_scroll(page), f"{path} scrolls sideways at {size['width']} pixels"
