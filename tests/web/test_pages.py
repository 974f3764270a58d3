"""The pages as a user meets them: logging in and out, "My week" (editing, deleting, validation, day classes,
totals against the contract, holidays, presets, bulk entry, week navigation), role rules and CSRF."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Browser, Page, expect

from gateway.core.enums import UserType
from tests.web.support import DASH, DESKTOP, PASSWORD, Company, GatewayServer, PageWatch, iso_week, log_in, this_week

pytestmark = pytest.mark.asyncio(loop_scope="session")


# --- Logging in and out -------------------------------------------------------------------------------------------


async def test_wrong_passwords_and_the_login_rate_limit_are_messages(
    page: Page, company: Company, watch: PageWatch
) -> None:
    await company.build(("fay", UserType.DEV))
    watch.expect_status(422, "/login")
    watch.expect_status(429, "/login")
    await page.goto("/login")
    for _ in range(5):
        await page.get_by_label("Username").fill(company.people["fay"].username)
        await page.get_by_label("Password").fill("not the password")
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
        await expect(page.get_by_label("Username")).to_have_value(company.people["fay"].username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many failed logins\. For your safety, try again in 1[45] minutes\.$")
    )
    await expect(page).to_have_url(re.compile(r"/login$"))


async def test_remember_me_starts_a_new_session_after_the_old_one_is_gone_and_logout_ends_both(
    browser: Browser, page: Page, company: Company, gateway: GatewayServer
) -> None:
    await company.build(("gus", UserType.DEV))
    await log_in(page, company.people["gus"], remember=True)
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    assert cookies["gw_remember"]["expires"] > time.time() + 29 * 24 * 3600  # kept across browser restarts
    assert cookies["gw_session"]["expires"] == -1  # a browser session only

    # A browser restarted: only the persistent cookie is left.
    later = await browser.new_context(base_url=gateway.url, viewport=DESKTOP)
    try:
        await later.add_cookies([{**cookies["gw_remember"]}])
        restarted = await later.new_page()
        await restarted.goto("/week")
        await expect(restarted.get_by_role("heading", name=re.compile("^My week"))).to_be_visible()
        renewed = {cookie["name"] for cookie in await later.cookies()}
        assert {"gw_session", "gw_remember"} <= renewed

        await restarted.get_by_role("button", name="Log out").click()
        await expect(restarted).to_have_url(re.compile(r"/login$"))
        assert {cookie["name"] for cookie in await later.cookies()} == {"gw_csrf"}
        await restarted.goto("/week")
        await expect(restarted).to_have_url(re.compile(r"/login\?next=%2Fweek"))
    finally:
        await later.close()


# --- Role rules and CSRF ------------------------------------------------------------------------------------------


async def test_another_users_entry_is_the_404_page_but_the_team_lead_may_see_it(
    page: Page, company: Company, watch: PageWatch
) -> None:
    await company.build(("hal", UserType.DEV), ("ivy", UserType.DEV), ("lead", UserType.PL))
    entry_id = await company.book("hal", date.today(), "09:00", "10:00", ticket="WEB-7", description="Hal's work")

    await log_in(page, company.people["ivy"])
    watch.expect_status(404, f"/entries/{entry_id}")
    response = await page.goto(f"/entries/{entry_id}")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not Found")
    await expect(page.get_by_text("This page does not exist, or it is not yours to see.")).to_be_visible()
    await expect(page.get_by_text("Hal's work")).to_have_count(0)
    await page.get_by_role("button", name="Log out").click()

    await log_in(page, company.people["lead"])
    await page.goto(f"/entries/{entry_id}")
    await expect(page.locator(".facts")).to_contain_text("Hal's work")
    await expect(page.locator(".facts")).to_contain_text("Booked by")
    # The history names what changed in words.
    created = page.locator("table.changes").first
    await expect(created.locator("tr", has_text="Project")).to_contain_text(company.name("Website"))
    await expect(created.locator("tr", has_text="Duration")).to_contain_text("1:00")


async def test_a_form_post_without_the_csrf_token_is_refused(page: Page, company: Company, watch: PageWatch) -> None:
    await company.build(("jo", UserType.DEV))
    await log_in(page, company.people["jo"])
    watch.expect_status(403, "/logout")
    watch.expect_status(403, "/api/entries")

    # A form whose token went missing (as a forged one from another site would lack it).
    await page.evaluate("document.querySelector('form.logout input[name=_csrf_token]').remove()")
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Forbidden")
    await expect(page.locator("main")).to_contain_text("did not carry this browser's CSRF token")

    status = await page.evaluate(
        """fetch('/api/entries', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'})
             .then(async (response) => { await response.text(); return response.status; })"""
    )
    assert status == 403  # its body read too: leaving the page next must not abort the answer mid-way
    # Nothing happened: still logged in.
    await page.goto("/week")
    await expect(page.get_by_role("heading", name=re.compile("^My week"))).to_be_visible()


# --- My week ------------------------------------------------------------------------------------------------------


async def test_api_validation_errors_appear_next_to_the_fields_they_concern(
    page: Page, company: Company, watch: PageWatch
) -> None:
    await company.build(("kim", UserType.DEV))
    await log_in(page, company.people["kim"])
    watch.expect_status(422, "/api/entries")
    form = page.locator('[data-entry-form="new"]')

    await form.get_by_role("button", name="Add entry").click()
    await expect(page.locator("#new-project_id-error")).to_have_text("Choose a project")
    await expect(page.locator("#new-start-error")).to_have_text("Enter the start time, such as 09:00")

    await page.locator("#new-start").fill("9")
    await page.locator("#new-end").fill("8")
    await page.locator("#new-project").select_option(label=company.name("Website"))
    await page.locator("#new-activity").select_option(label=company.name("Meeting"))
    await page.locator("#new-ticket").fill("ABC-1")
    await page.locator("#new-ticket").press("Enter")
    # The API refuses the first rule it meets: the end before the start.
    await expect(page.locator("#new-end-error")).to_contain_text("The end must be after the start")
    await expect(page.locator("#new-end")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#new-end")).to_be_focused()

    await page.locator("#new-end").fill("10")
    await page.locator("#new-end").press("Enter")
    await expect(page.locator("#new-ticket-error")).to_have_text(
        "Ticket ABC-1 does not belong to this project (allowed: WEB-…)"
    )
    await expect(page.locator("#new-end-error")).to_be_hidden()
    await expect(page.locator("#new-ticket")).to_be_focused()

    await page.locator("#new-ticket").fill("web-12")
    await page.locator("#new-ticket").press("Enter")
    await expect(page.locator("li.entry .ticket strong")).to_have_text("WEB-12")
    await expect(page.locator("li.entry .time")).to_have_text(f"09:00{DASH}10:00")


async def test_entries_are_edited_and_deleted_inline_and_the_day_classes_follow(
    page: Page, company: Company, watch: PageWatch
) -> None:
    await company.build(("lou", UserType.DEV))
    day = this_week()[0]
    first = await company.book("lou", day, "08:00", "10:00", description="Standup and mail")
    second = await company.book("lou", day, "10:00", "11:00", description="Code review")
    await company.book("lou", day, "13:00", "14:00", description="Pairing")
    await log_in(page, company.people["lou"], next_path=f"/week/{iso_week(day)}")
    rows = page.locator(f'section.day[data-day="{day.isoformat()}"] li.entry')
    await expect(rows.locator(".day-class")).to_have_text(["DAYBREAK", "PAUSE"])

    # Edit with the keyboard: Enter on "Edit", the day field has the focus, Tab to the end, Enter saves.
    await page.locator(f"#entry-{second} [data-edit]").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#edit-day")).to_be_focused()
    await expect(page.locator("#edit-description")).to_have_value("Code review")
    await page.keyboard.press("Tab")
    await page.keyboard.type("0930")  # now starts before the first one ends
    await page.keyboard.press("Tab")
    await page.keyboard.type("1100")
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#entry-{second} .time")).to_have_text(f"09:30{DASH}11:00")
    await expect(page.locator(f"#entry-{second} [data-edit]")).to_be_focused()
    await expect(rows.locator(".day-class")).to_have_text(["DAYBREAK", "OVERLAP", "PAUSE"])

    # Escape leaves an editor without saving.
    await page.keyboard.press("Enter")
    await page.locator("#edit-description").fill("Never saved")
    await page.keyboard.press("Escape")
    await expect(page.locator(f"#entry-{second} .description")).to_have_text("Code review")
    await expect(page.locator(f"#entry-{second} [data-edit]")).to_be_focused()

    # Delete asks first.
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator(f"#entry-{first} [data-delete]").click()
    await expect(rows).to_have_count(2)
    await expect(rows.locator(".day-class")).to_have_text(["DAYBREAK", "PAUSE"])
    await expect(page.locator(f'section.day[data-day="{day.isoformat()}"] .day-total strong')).to_have_text("2:30")
    assert [e.description for e in await company.entries_of("lou")] == ["Code review", "Pairing"]


async def test_the_arrow_keys_move_between_weeks(page: Page, company: Company) -> None:
    await company.build(("max", UserType.USER))
    await log_in(page, company.people["max"])
    current = iso_week(date.today())

    def week(shift: int) -> re.Pattern[str]:
        return re.compile(rf"/week/{iso_week(date.today() + timedelta(weeks=shift))}$")

    await page.keyboard.press("ArrowRight")
    await expect(page).to_have_url(week(1))
    await page.keyboard.press("ArrowLeft")
    await expect(page).to_have_url(week(0))
    await page.keyboard.press("ArrowLeft")
    await expect(page).to_have_url(week(-1))
    await page.keyboard.press("t")
    await expect(page).to_have_url(re.compile(rf"/week/{current}$"))
    # In a field the arrows move the cursor, not the week; Alt+PageUp / PageDown work there too.
    await page.keyboard.press("n")
    await page.keyboard.press("ArrowDown")
    await expect(page).to_have_url(re.compile(rf"/week/{current}$"))
    await page.keyboard.press("Alt+PageDown")
    await expect(page).to_have_url(week(1))
    await page.keyboard.press("n")
    await page.keyboard.press("Alt+PageUp")
    await expect(page).to_have_url(week(0))


async def test_days_show_totals_against_the_contract_holidays_and_the_balance(page: Page, company: Company) -> None:
    await company.build(("ned", UserType.DEV))
    last_week = [day - timedelta(weeks=1) for day in this_week()]
    monday, tuesday, wednesday = last_week[0], last_week[1], last_week[2]
    await company.add_contract("ned", Decimal(8), start=monday)
    await company.add_holiday(wednesday, "Founders' Day")
    await company.book("ned", monday, "08:00", "12:00")
    await company.book("ned", monday, "12:30", "16:30")
    await company.book("ned", tuesday, "09:00", "15:00")
    await log_in(page, company.people["ned"], next_path=f"/week/{iso_week(monday)}")

    days = page.locator("section.day")
    await expect(days.nth(0).locator(".day-total")).to_have_text(re.compile(r"8:00\s*/\s*8:00\s*±0:00"))
    await expect(days.nth(1).locator(".day-total")).to_have_text(re.compile(r"6:00\s*/\s*8:00\s*-2:00"))
    await expect(days.nth(2).locator(".holiday-name")).to_have_text("Holiday: Founders' Day")
    await expect(days.nth(2).locator(".day-total")).to_have_text("0:00")  # no target on a holiday
    totals = page.get_by_test_id("week-totals")
    await expect(totals).to_contain_text("Week 14:00 of 32:00 h (-18:00)")
    await expect(totals).to_contain_text(f"Balance up to {last_week[-1].strftime('%a %d %b')} -18:00")


async def test_a_preset_fills_the_form_and_bulk_entry_books_a_weeks_vacation(
    page: Page, company: Company, watch: PageWatch
) -> None:
    await company.build(("oli", UserType.DEV))
    await company.add_contract("oli", Decimal(8), start=this_week()[0])
    await company.add_preset("Vacation", "vacation", "Vacation")
    await company.add_preset("Standup", "meeting", "Daily standup")
    next_week = [day + timedelta(weeks=1) for day in this_week()]
    await log_in(page, company.people["oli"], next_path=f"/week/{iso_week(next_week[0])}")

    await page.locator("#new-preset").select_option(label=company.name("Standup"))
    await expect(page.locator("#new-project option:checked")).to_have_text(company.name("Website"))
    await expect(page.locator("#new-activity option:checked")).to_have_text(company.name("Meeting"))
    await expect(page.locator("#new-description")).to_have_value("Daily standup")

    watch.expect_status(422, "/api/entries/bulk")
    bulk = page.locator("#bulk")
    await bulk.locator("summary").click()
    await bulk.get_by_label("Preset", exact=True).select_option(label=company.name("Vacation"))
    await expect(bulk.get_by_label("First day")).to_have_value(next_week[0].isoformat())
    await expect(bulk.get_by_label("Last day")).to_have_value(next_week[4].isoformat())
    await bulk.get_by_label("Last day").fill((next_week[0] - timedelta(days=1)).isoformat())
    await bulk.get_by_role("button", name="Book these days").click()
    await expect(page.locator("#bulk-last_day-error")).to_have_text("The last day lies before the first day")

    await bulk.get_by_label("Last day").fill(next_week[6].isoformat())
    await bulk.get_by_label("Each day's contract hours, from 08:00").check()
    await bulk.get_by_role("button", name="Book these days").click()
    await expect(bulk.locator(".form-error")).to_have_text("Booked 5 days.")
    rows = page.locator("li.entry")
    await expect(rows).to_have_count(5)
    await expect(rows.locator(".time")).to_have_text([f"08:00{DASH}16:00"] * 5)
    await expect(page.get_by_test_id("week-totals")).to_contain_text("Week 40:00 of 40:00 h (±0:00)")
