"""The Redmine connector passes the conformance suite against a real Redmine 5."""

from __future__ import annotations

import httpx
import pytest

from gateway.plugins.redmine.connector import RedmineConnector
from gateway.testing.conformance import ConnectorConformance
from tests.plugins.redmine.conftest import RedmineProject, RedmineTracker, redmine_connector
from tests.plugins.redmine.faulty_proxy import FaultyProxy
from tests.redmine_server import RedmineServer


class TestRedmineConformance(ConnectorConformance):
    @pytest.fixture
    def tracker(
        self, redmine: RedmineServer, project: RedmineProject, proxy: tuple[FaultyProxy, str]
    ) -> RedmineTracker:
        return RedmineTracker(redmine, project, proxy[0])

    @pytest.fixture
    def connector(self, proxy: tuple[FaultyProxy, str], http: httpx.AsyncClient) -> RedmineConnector:
        # A page of two entries, so the window read goes through Redmine's paging.
        return redmine_connector(proxy[1], http, page_size=2)
