"""The GitLab connector passes the conformance suite with OAuth 2.0 (rotating refresh tokens) and with personal
access tokens, against the fake GitLab that validates every GraphQL request against GitLab's schema."""

from __future__ import annotations

import httpx
import pytest

from gateway.plugins.gitlab.connector import GitLabConnector
from gateway.testing.conformance import ConnectorConformance
from tests.plugins.gitlab.conftest import GitLabSetup, GitLabTracker


class TestGitLabConformance(ConnectorConformance):
    @pytest.fixture
    def tracker(self, gitlab: GitLabSetup) -> GitLabTracker:
        return GitLabTracker(gitlab)

    @pytest.fixture
    def connector(self, gitlab: GitLabSetup, http: httpx.AsyncClient) -> GitLabConnector:
        # Deliveries are signed (Standard Webhooks): the signing token makes a signature required.
        return gitlab.connector(http, gitlab.secrets(webhook_signing_token=gitlab.fake.signing_token))
