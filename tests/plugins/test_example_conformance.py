"""The example connector passes the conformance suite every connector must pass: through OAuth 2.0, and with
personal tokens (a `TokenConnector`)."""

from __future__ import annotations

import httpx
import pytest

from gateway.connectors import ConnectorContext
from gateway.testing.conformance import ConnectorConformance
from tests.plugins.conftest import PAGE_SIZE

try:
    from example_connector.connector import TasklogTokenConfig, TasklogTokenConnector
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)


class TestTasklogConformance(ConnectorConformance):
    """All of the suite's tests, against the fake Tasklog (fixtures in conftest.py)."""


class TestTasklogTokenConformance(ConnectorConformance):
    """The same tracker with pasted tokens: no authorisation page, no refresh."""

    @pytest.fixture
    def connector(self, fake: FakeTasklog, http: httpx.AsyncClient) -> TasklogTokenConnector:
        context = ConnectorContext(
            base_url=fake.base_url,
            config=TasklogTokenConfig(page_size=PAGE_SIZE),
            secrets={"webhook_secret": fake.webhook_secret},
            http=http,
        )
        return TasklogTokenConnector(context)
