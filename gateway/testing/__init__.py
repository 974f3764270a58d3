"""Test support shipped with the gateway, for connector authors: the conformance suite (`conformance`).

Install it with the `testing` extra (`pip install "timetracker-gateway[testing]"`: pytest and pytest-asyncio);
the gateway itself never imports it.
"""

from gateway.testing.conformance import ConnectorConformance, FakeTracker, draft, lower_case, pull_everything

__all__ = ["ConnectorConformance", "FakeTracker", "draft", "lower_case", "pull_everything"]
