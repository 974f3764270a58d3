"""Fixtures for a connector's own tests, next to the conformance suite (which brings the same `http` itself).

Import them into a `conftest.py`: `from gateway.testing.fixtures import http`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client like the gateway's (the one in `ConnectorContext.http`)."""
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
        yield client
