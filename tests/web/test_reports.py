"""The reports page: the time report's table and chart, its CSV download equal to the table, project progress
and a month's timesheet, as a project lead sees them."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from gateway.core.enums import UserType
from gateway.core.models import Project
from tests.support import run_in_session
from tests.web.support import PHONE, Company, log_in, no_horizontal_scroll, screenshots, texts

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_time_report_draws_its_chart_and_the_csv_download_equals_the_table(
    page: Page, company: Company, web_output: Path
) -> None:
    await company.build(("lea", UserType.PL), ("cy", UserType.DEV), ("dee", UserType.DEV))
    today = date.today()
    earlier = today - timedelta(days=3)
    await company.book("cy", earlier, "09:00", "11:30", ticket="WEB-1", description="Build")
    await company.book("cy", today, "09:00", "10:00", ticket="WEB-2", description="Build more")
    await company.book("dee", today, "13:00", "13:45", activity_id=company.ids["meeting"], description="Standup")
    await run_in_session(
        company.database_url,
        lambda session: session.execute(
            update(Project).where(Project.id == company.ids["project"]).values(estimation_minutes=600)
        ),
    )

    await log_in(page, company.people["lea"], next_path="/reports")
    form = page.get_by_role("form", name="Time report filters")
    await form.get_by_label("From", exact=True).fill(earlier.isoformat())
    await form.get_by_label("To", exact=True).fill(today.isoformat())
    await form.get_by_label("Project").select_option(label=company.name("Website"))
    await form.get_by_label("Group by").select_option("activity")
    await form.get_by_label("then by").select_option("day")
    await form.get_by_role("button", name="Show").click()
    await expect(page.locator("#time-result")).to_have_attribute("data-state", "ready")
    await expect(page).to_have_url(re.compile(r"group1=activity&group2=day"))

    table = page.get_by_test_id("time-table")
    await expect(table.locator("tbody tr")).to_have_count(3)
    await expect(table.locator("tfoot th")).to_have_text("Total")
    await expect(table.locator("tfoot td").nth(0)).to_have_text("4.25")
    await expect(table.locator("tfoot td").nth(1)).to_have_text("3")
    # Bars per activity, a line over the days.
    bars = page.get_by_test_id("bar-chart").locator("rect.bar")
    await expect(bars).to_have_count(2)
    await expect(page.get_by_test_id("line-chart").locator("circle.point")).to_have_count(2)
    await expect(page.get_by_test_id("bar-chart").locator("text")).to_contain_text(
        [company.name("Development"), "3.50 h", company.name("Meeting"), "0.75 h"]
    )

    shown = [
        [cell if cell != "—" else "" for cell in texts(await row.locator("td").all_inner_texts())]
        for row in await table.locator("tbody tr").all()
    ]
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download CSV of the time report").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = await asyncio.to_thread(Path(await download.path()).read_text)
    rows = list(csv.reader(io.StringIO(text)))
    header, data = rows[0], rows[1:]
    keep = [i for i, title in enumerate(header) if not title.endswith(" id")]
    assert [header[i] for i in keep] == ["activity", "day", "hours", "entries", "billable hours", "non-billable hours"]
    assert [[line[i] for i in keep] for line in data] == shown

    async with page.expect_download() as xlsx_info:
        await page.get_by_role("link", name="Download XLSX of the time report").click()
    assert (await xlsx_info.value).suggested_filename.endswith(".xlsx")
    await screenshots(page, web_output, "reports")

    # Progress against the estimate of ten hours.
    progress = page.get_by_role("form", name="Project progress")
    await progress.get_by_label("Project").select_option(label=company.name("Website"))
    await progress.get_by_role("button", name="Show").click()
    result = page.locator("#progress-result")
    await expect(result.locator("dl")).to_contain_text("4.25 h")
    await expect(result.locator("dl")).to_contain_text("10.00 h")
    await expect(result.get_by_role("img", name="43 % of the estimate used")).to_be_visible()

    # Cy's month, from the lead's page.
    sheet = page.get_by_role("form", name="Month timesheet")
    await sheet.get_by_label("User").select_option(str(company.people["cy"].id))
    await sheet.get_by_label("Month").fill(f"{today:%Y-%m}")
    await sheet.get_by_role("button", name="Show").click()
    timesheet = page.get_by_test_id("timesheet")
    await expect(timesheet.locator("tbody tr")).to_have_count(
        (date(today.year + today.month // 12, today.month % 12 + 1, 1) - today.replace(day=1)).days
    )
    await expect(page.get_by_test_id("timesheet-balance")).to_be_visible()
    await page.set_viewport_size(PHONE)
    assert await no_horizontal_scroll(page)


async def test_a_dev_sees_only_their_own_time_in_the_report(page: Page, company: Company) -> None:
    await company.build(("cy", UserType.DEV), ("dee", UserType.DEV))
    today = date.today()
    await company.book("cy", today, "09:00", "10:00", ticket="WEB-1")
    await company.book("dee", today, "10:00", "12:00", ticket="WEB-2")
    await log_in(page, company.people["cy"], next_path="/reports")
    form = page.get_by_role("form", name="Time report filters")
    await expect(form.get_by_label("User")).to_have_count(0)  # only themselves to choose
    await form.get_by_label("From", exact=True).fill(today.isoformat())
    await form.get_by_label("Group by").select_option("user")
    await form.get_by_role("button", name="Show").click()
    await expect(page.locator("#time-result")).to_have_attribute("data-state", "ready")
    rows = page.get_by_test_id("time-table").locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(company.people["cy"].username)
