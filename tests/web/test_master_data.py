"""Master data pages: forms generated from the API's OpenAPI description, the API's validation next to the field,
search and paging, references offered by name, the iCalendar import, and what a PL may open."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from gateway.core.enums import UserType
from tests.web.support import Company, PageWatch, log_in, no_horizontal_scroll, screenshots

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_admin_creates_a_customer_and_a_project_with_the_apis_validation_next_to_the_field(
    page: Page, company: Company, watch: PageWatch, web_output: Path
) -> None:
    await company.build(("ada", UserType.ADMIN))
    await log_in(page, company.people["ada"], next_path="/admin/data/customers")
    root = page.locator("#master-data")
    await expect(root).to_have_attribute("data-ready", "true")

    await page.get_by_role("button", name="New in customers").click()
    editor = page.locator("#data-editor")
    name = editor.get_by_label(re.compile(r"^Name"))
    await expect(name).to_be_focused()
    for status in (400, 422):  # a body the schema refuses is a 400, a rule of the service a 422
        watch.expect_status(status, "/api/customers")
        watch.expect_status(status, "/api/projects")
    await editor.get_by_role("button", name="Save").click()
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(editor.locator(".field:has([name='name']) .field-error")).to_be_visible()

    customer = f"Initech {company.tag}"
    await name.fill(customer)
    await editor.get_by_label(re.compile(r"^Team ids")).select_option(label=f"Team {company.tag}")
    await editor.get_by_role("button", name="Save").click()
    await expect(page.locator("#data-status")).to_have_text("Created.")

    await page.get_by_label("Name contains").fill(f"initech {company.tag}")
    await page.get_by_role("button", name="Search").click()
    rows = page.get_by_test_id("data-list").locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(customer)
    await expect(rows.first).to_contain_text(f"Team {company.tag}")
    await screenshots(page, web_output, "master-data-customers")
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await no_horizontal_scroll(page)
    await page.set_viewport_size({"width": 1280, "height": 860})

    # A project names its customer: the form offers the customers by name.
    await page.get_by_role("navigation", name="Master data").get_by_role("link", name="Projects").click()
    await expect(page.locator("#master-data")).to_have_attribute("data-ready", "true")
    await page.get_by_role("button", name="New in projects").click()
    await editor.get_by_label(re.compile(r"^Customer id")).select_option(label=customer)
    await editor.get_by_label(re.compile(r"^Name")).fill(f"Portal {company.tag}")
    await editor.get_by_label(re.compile(r"^Ticket prefixes")).fill("1BAD")
    await editor.get_by_role("button", name="Save").click()
    prefixes = editor.get_by_label(re.compile(r"^Ticket prefixes"))
    await expect(prefixes).to_have_attribute("aria-invalid", "true")
    await prefixes.fill("POR")
    await editor.get_by_role("button", name="Save").click()
    await expect(page.locator("#data-status")).to_have_text("Created.")
    await page.get_by_label("Name contains").fill(f"Portal {company.tag}")
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(customer)
    await expect(rows.first).to_contain_text("POR")


async def test_holidays_are_imported_from_an_icalendar_file(page: Page, company: Company, tmp_path: Path) -> None:
    await company.build(("ada", UserType.ADMIN))
    day = date(2031, 12, 24 + int(company.tag, 16) % 3)
    ics = tmp_path / "holidays.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:web2-"
        f"{company.tag}\r\nDTSTART;VALUE=DATE:{day:%Y%m%d}\r\nSUMMARY:Holiday {company.tag}\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    await log_in(page, company.people["ada"], next_path="/admin/data/holidays")
    await expect(page.locator("#master-data")).to_have_attribute("data-ready", "true")
    await page.get_by_label(re.compile("^iCalendar file")).set_input_files(str(ics))
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#data-status")).to_have_text(re.compile(r"^Imported: [01] new"))
    imported = page.get_by_test_id("data-list").locator("tbody tr", has_text=f"Holiday {company.tag}")
    await expect(imported).to_contain_text(day.isoformat())


async def test_a_pl_opens_the_master_data_the_api_lets_a_pl_manage_and_no_other(
    page: Page, company: Company, watch: PageWatch
) -> None:
    await company.build(("lea", UserType.PL))
    await log_in(page, company.people["lea"])
    await page.get_by_role("link", name="Master data").click()
    await expect(page).to_have_url(re.compile(r"/admin/data/customers$"))
    nav = page.get_by_role("navigation", name="Master data")
    await expect(nav.get_by_role("link")).to_have_text(["Customers", "Projects", "Activities", "Contracts", "Presets"])
    await expect(page.get_by_test_id("data-list").locator("tbody tr", has_text=company.name("Acme"))).to_have_count(1)
    for path in ("/admin/data/users", "/admin/links"):
        watch.expect_status(404, path)
        response = await page.goto(path)
        assert response is not None
        assert response.status == 404
