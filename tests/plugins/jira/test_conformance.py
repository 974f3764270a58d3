"""The Jira connector passes the conformance suite in both flavours and all four ways of connecting."""

from __future__ import annotations

import httpx
import pytest

from gateway.plugins.jira.connector import JiraConnector
from gateway.testing.conformance import ConnectorConformance
from tests.plugins.jira.conftest import JiraSetup, JiraTracker


class TestJiraConformance(ConnectorConformance):
    @pytest.fixture
    def tracker(self, jira: JiraSetup) -> JiraTracker:
        return JiraTracker(jira)

    @pytest.fixture
    def connector(self, jira: JiraSetup, http: httpx.AsyncClient) -> JiraConnector:
        return jira.connector(http)
