"""The example connector passes the conformance suite every connector must pass."""

from __future__ import annotations

from gateway.testing.conformance import ConnectorConformance


class TestTasklogConformance(ConnectorConformance):
    """All of the suite's tests, against the fake Tasklog (fixtures in conftest.py)."""
