"""Browser tests: Playwright for Python driving Debian's `chromium` headless against a real `gateway serve`
(PostgreSQL, Redis) and real `gateway worker` processes.

One browser and one server per pytest-xdist worker (session fixtures, on the session's event loop); each test
gets a fresh browser context and a company of its own (uniquely named users, customer, project), so tests do not
see each other's data. Every page is watched: a console error, an uncaught exception, a failed request or an
error answer the test did not expect fails the test. Screenshots are written to `--web-output`
(default `test-results/web`).

Playwright's own browser download is not needed (nor reachable offline): the tests use `/usr/bin/chromium`,
which `make test` installs from Debian's packages when missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
import redis
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from gateway.core import migrator
from gateway.core.errors import reason_of
from gateway.core.vault import KeyRing, generate_key_line
from tests.conftest import REDIS_SERVER_URL, service_missing
from tests.support import Workers, clean_environment
from tests.web.support import DESKTOP, Company, GatewayServer, PageWatch

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

CHROMIUM = os.environ.get("WEB_TEST_CHROMIUM", "/usr/bin/chromium")
# Offline and as root: no sandbox (root), no GPU, and none of the browser's own calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--web-output",
        default="test-results/web",
        help="where the browser tests write their screenshots (default: test-results/web)",
    )


@pytest.fixture(scope="session")
def web_output(request: pytest.FixtureRequest) -> Path:
    path = Path(request.config.getoption("--web-output")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        service_missing("Chromium (Debian package chromium)", CHROMIUM, "not installed")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


# --- The gateway under test ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def web_keys() -> str:
    return generate_key_line("web-test")


@pytest.fixture(scope="session")
def web_key_ring(web_keys: str) -> KeyRing:
    return KeyRing.parse(web_keys)


@pytest.fixture(scope="session")
def web_database(pg_server: Callable[[], str]) -> str:
    """A database of these tests' own: the server keeps it for the whole session (other tests empty theirs)."""
    url = pg_server()
    migrator.upgrade(url)
    return url


@pytest.fixture(scope="session")
def web_redis_url() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "master")
    number = 1 if worker == "master" else 1 + int(worker.removeprefix("gw")) % 15
    url = f"{REDIS_SERVER_URL.rstrip('/')}/{number}"
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis", REDIS_SERVER_URL, reason_of(exc))
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def gateway_env(web_database: str, web_redis_url: str, web_keys: str) -> dict[str, str]:
    """The settings of every gateway process in these tests (server and workers)."""
    return clean_environment(
        DATABASE_URL=web_database,
        REDIS_URL=web_redis_url,
        GATEWAY_SECRET_KEYS=web_keys,
        GATEWAY_JOB_TIMEOUT="8",
        GATEWAY_LOG_FORMAT="json",
    )


@pytest.fixture(scope="session")
def gateway(gateway_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayServer]:
    server = GatewayServer(gateway_env, tmp_path_factory.mktemp("gateway") / "serve.log").start()
    yield server
    server.kill()  # a graceful stop would wait for live streams of browsers that are gone already


# --- Per test -----------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def company(web_database: str, web_key_ring: KeyRing) -> AsyncIterator[Company]:
    built = Company(web_database, web_key_ring)
    yield built
    await built.close()


# Assertions wait as long as actions do (Playwright's default for `expect` is 5 s): a page's live update can take
# longer on a loaded 2-core machine running the gateway, its workers, Chromium and another test process.
expect.set_options(timeout=10_000)


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser, gateway: GatewayServer, watch: PageWatch) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(base_url=gateway.url, viewport=DESKTOP, locale="en-GB", timezone_id="UTC")
    made.set_default_timeout(10_000)
    made.on("page", watch.watch)
    yield made
    try:
        watch.check()
    finally:
        await made.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
def tasklog() -> Iterator[FakeTasklog]:
    """A fake Tasklog tracker of this test's own."""
    try:
        from example_connector.fake_tasklog import FakeTasklog
    except ImportError:  # pragma: no cover - only without `make test`'s install step
        pytest.skip("the example connector is not installed (make test installs it)")
    with FakeTasklog(access_token_lifetime=3600).serve() as fake:
        yield fake


@pytest.fixture
def workers(gateway_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    """Start `gateway worker` processes on the server's database and Redis; stopped after the test."""
    runner = Workers(gateway_env, tmp_path)
    yield runner
    for process in runner.processes:  # nothing left to finish: no need to wait for a graceful stop
        if process.poll() is None:
            process.kill()
            process.wait()
