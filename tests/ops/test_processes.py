"""Production shape: several `gateway serve` processes and `gateway worker`s on one host, one metrics directory.

Every process writes its counters to `PROMETHEUS_MULTIPROC_DIR`; whichever API process is scraped answers the sum
over all of them, and the domain metrics move when a worker syncs.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.world import World
from tests.support import GATEWAY, Workers, clean_environment, eventually, free_port

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)


@contextmanager
def gateway_serve(port: int, env: dict[str, str], log: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        server = subprocess.Popen([GATEWAY, "serve", "--port", str(port), *extra], env=env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"gateway serve did not answer\n{log.read_text()[-3000:]}"
                time.sleep(0.3)
            yield server
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of `/metrics`, by name and labels."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def live_requests(port: int, count: int) -> None:
    for _ in range(count):
        with httpx.Client() as client:  # a new connection each time, as separate clients would make
            assert client.get(f"http://127.0.0.1:{port}/health/live", timeout=5).status_code == 200


@pytest.fixture
def env(world: World, redis_url: str, key_line: str, tmp_path: Path) -> dict[str, str]:
    return clean_environment(
        DATABASE_URL=world.database_url,
        REDIS_URL=redis_url,
        GATEWAY_SECRET_KEYS=key_line,
        GATEWAY_LOG_FORMAT="json",
        GATEWAY_JOB_TIMEOUT="10",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )


async def test_metrics_of_every_process_add_up_and_move_when_a_worker_syncs(
    world: World, tasklog: FakeTasklog, linked: int, env: dict[str, str], tmp_path: Path
) -> None:
    one, two = free_port(), free_port()
    workers = Workers(env, tmp_path)
    with ExitStack() as stack:
        # Three API processes: `--workers 2` shares one port between two, and a third serves on a port of its own.
        stack.enter_context(gateway_serve(one, env, tmp_path / "serve-1.log", "--workers", "2"))
        stack.enter_context(gateway_serve(two, env, tmp_path / "serve-2.log"))
        stack.callback(workers.stop_all)
        workers.start()
        workers.start()

        before = scrape(one)
        live_requests(one, 7)
        live_requests(two, 5)
        for port in (one, two):
            after = scrape(port)
            served = value(after, "gateway_requests_total", path="/health/live") - value(
                before, "gateway_requests_total", path="/health/live"
            )
            assert served == 12, f"port {port} sums {served} of 12 requests"
        writers = {path.stem.rsplit("_", 1)[1] for path in (tmp_path / "metrics").glob("counter_*.db")}
        assert len(writers) >= 2, writers  # counters written by separate processes

        booked = await asyncio.to_thread(
            httpx.post,
            f"http://127.0.0.1:{two}/api/entries",
            headers=world.headers("dev_a"),
            json={
                "day": "2026-11-24",
                "start": "09:00",
                "end": "10:00",
                "project_id": world.id("projects", "Alpha Web"),
                "activity_id": world.id("activities", "Development"),
                "ticket": "TL-1",
            },
            timeout=30,
        )
        assert booked.status_code == 201, booked.text

        def pushed() -> bool:
            return value(scrape(one), "gateway_sync_worklogs_total", connector="tasklog", result="pushed") >= 1

        await eventually(pushed, within=90, what="a worker's push in /metrics", logs=workers.logs)
        for port in (one, two):
            samples = scrape(port)
            assert value(samples, "gateway_entries_created_total", destination="tracker") == 1
            assert value(samples, "gateway_sync_runs_total", connector="tasklog", outcome="ok") >= 1
            assert value(samples, "gateway_sync_run_duration_seconds_count", connector="tasklog") >= 1
            assert value(samples, "gateway_tracker_requests_total", connector="tasklog", status="200") >= 1
            assert value(samples, "gateway_entries_pending", connector="tasklog") == 0
            assert value(samples, "gateway_jobs_queued") >= 0


def test_a_stop_finishes_the_request_in_flight_and_ends_live_streams(
    world: World, env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    body = (
        '{"day": "2026-11-24", "start": "09:00", "end": "10:00", '
        f'"project_id": {world.id("projects", "Alpha Web")}, "activity_id": {world.id("activities", "Meeting")}}}'
    ).encode()
    with gateway_serve(port, env, log, "--workers", "2", "--graceful-timeout", "120") as server:
        # A live-update stream, open as a page keeps it.
        stream = socket.create_connection(("127.0.0.1", port))
        stream.sendall(
            f"GET /live HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
            f"Authorization: {world.headers('dev_a')['Authorization']}\r\n\r\n".encode()
        )
        assert b" 200 " in stream.recv(4096).split(b"\r\n", 1)[0]
        # A booking whose body is still on its way when the stop comes.
        booking = socket.create_connection(("127.0.0.1", port))
        headers = (
            f"POST /api/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: {world.headers('dev_a')['Authorization']}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        booking.sendall(headers.encode() + body[:20])
        time.sleep(1)
        server.send_signal(signal.SIGTERM)
        time.sleep(2)
        booking.sendall(body[20:])
        booking.settimeout(30)
        answer = booking.recv(65536)
        assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
        # The stream was ended by the server (end of file), so the stop need not wait for the timeout.
        stream.settimeout(30)
        while chunk := stream.recv(65536):
            assert chunk
        server.wait(timeout=60)
    assert "timeout graceful shutdown exceeded" not in log.read_text()
