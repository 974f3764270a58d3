"""The connector's OAuth 2 mode (Redmine >= 6.1) against a fake Doorkeeper: PKCE, code exchange, rotation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gateway.connectors import AuthKind, AuthRevoked
from gateway.plugins.redmine.connector import RedmineConfig, RedmineConnector
from tests.loopback_server import serve
from tests.plugins.redmine.conftest import redmine_connector
from tests.plugins.redmine.fake_doorkeeper import FakeDoorkeeper


async def test_oauth_mode_links_through_doorkeeper_and_rotates_refresh_tokens(http: httpx.AsyncClient) -> None:
    fake = FakeDoorkeeper()
    with serve(fake.app()) as base_url:
        connector = redmine_connector(
            base_url,
            http,
            auth="oauth2",
            client_id=fake.client_id,
            secrets={"client_secret": fake.client_secret},
            redirect_uri="http://127.0.0.1:9/api/oauth/callback/1",
        )
        assert connector.auth_kind is AuthKind.OAUTH2
        assert RedmineConnector.auth_kind_for(RedmineConfig()) is AuthKind.API_KEY

        start = await connector.authorization_url("state-1")
        query = parse_qs(urlsplit(start.url).query)
        assert (query["code_challenge_method"], query["state"]) == (["S256"], ["state-1"])
        async with httpx.AsyncClient() as browser:
            redirect = await browser.get(start.url)
        code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]

        credentials = await connector.exchange_code(code, start.code_verifier)
        assert (await connector.account(credentials)).id == "77"
        refreshed = await connector.refresh(credentials)
        assert refreshed.secret != credentials.secret
        assert (await connector.account(refreshed)).id == "77"
        with pytest.raises(AuthRevoked):
            await connector.refresh(credentials)  # the old refresh token was rotated away
        assert fake.refreshes == 1
