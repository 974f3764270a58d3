"""A directory (LDAP) account logs in through the login page, with a real OpenLDAP server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.ldap_server import BIND_DN_TEMPLATE, PEOPLE, LdapServer
from tests.web.support import DESKTOP, GatewayServer, PageWatch

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_directory_user_logs_in_with_the_directory_password(
    browser: Browser, ldap_server: LdapServer, gateway_env: dict[str, str], tmp_path: Path, watch: PageWatch
) -> None:
    env = {**gateway_env, "LDAP_URL": ldap_server.url, "LDAP_BIND_DN_TEMPLATE": BIND_DN_TEMPLATE}
    server = GatewayServer(env, tmp_path / "serve.log").start()
    context = await browser.new_context(base_url=server.url, viewport=DESKTOP)
    context.on("page", watch.watch)
    try:
        page = await context.new_page()
        watch.expect_status(422, "/login")
        await page.goto("/login")
        await page.get_by_label("Username").fill("alan")
        await page.get_by_label("Password").fill(PEOPLE["grace"][0])  # someone else's password
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")

        await page.get_by_label("Username").fill("grace")
        await page.get_by_label("Password").fill(PEOPLE["grace"][0])
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(re.compile(r"/week/\d{4}-W\d{2}$"))
        await expect(page.locator(".me")).to_have_text(PEOPLE["grace"][1])
        watch.check()
    finally:
        await context.close()
        server.stop()
