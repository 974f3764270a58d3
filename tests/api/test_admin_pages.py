"""The ADMIN's pages as HTML without a browser: a plugin that failed to load is listed with its reason, and the
pages are the 404 page for everyone but an ADMIN."""

from __future__ import annotations

import pytest

from gateway.connectors import hookimpl
from gateway.core.plugins import build_registry
from tests.api.conftest import AppClientFactory
from tests.api.world import World

HTML = {"Accept": "text/html"}


class BrokenPlugin:
    """A plugin whose registration hook raises, as a third party's bug would."""

    @staticmethod
    @hookimpl
    def gateway_register_connectors() -> list[type]:
        raise RuntimeError("the vendor's SDK is missing")


async def test_the_plugins_page_shows_why_a_plugin_failed_to_load(
    make_client: AppClientFactory, api_database_url: str, world: World
) -> None:
    registry = build_registry(plugins={"broken-plugin": BrokenPlugin()})
    async with make_client(api_database_url, registry=registry) as client:
        response = await client.get("/admin/plugins", headers={**HTML, **world.headers("admin")})
    assert response.status_code == 200
    assert "broken-plugin" in response.text
    assert "not loaded" in response.text
    assert "the vendor&#39;s SDK is missing" in response.text
    assert "redmine" in response.text  # the working plugins are still there


@pytest.mark.parametrize("who", ["pl_a", "dev_a", "user_a"])
async def test_admin_pages_are_the_404_page_for_everyone_else(
    make_client: AppClientFactory, api_database_url: str, world: World, who: str
) -> None:
    async with make_client(api_database_url) as client:
        for path in ("/admin", "/admin/links", "/admin/sync", "/admin/ticket-systems", "/admin/plugins"):
            response = await client.get(path, headers={**HTML, **world.headers(who)})
            assert response.status_code == 404, path
            assert "This page does not exist, or it is not yours to see." in response.text
        data = await client.get("/admin/data/users", headers={**HTML, **world.headers(who)})
        assert data.status_code == 404
        customers = await client.get("/admin/data/customers", headers={**HTML, **world.headers(who)})
        assert customers.status_code == (200 if who == "pl_a" else 404)
