"""`gateway serve`: the HTTP API, in one process or several (`--workers N`).

With several workers uvicorn's supervisor binds the port once and starts N processes that share it (the kernel
spreads the connections); each builds its own app from the environment (`app_from_environment`). Their metrics
are summed through `PROMETHEUS_MULTIPROC_DIR` (see `prepare_metrics_dir`).

Stopping (SIGTERM or Ctrl-C) is graceful: the port is closed, requests in flight run to their end (at most
`--graceful-timeout` seconds), and open live-update streams, which never end on their own, are ended at once
(`Draining`) — the browser reconnects to another process and reads its page again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from types import FrameType
from typing import Any

import click
import uvicorn

from gateway.app import create_app
from gateway.cli._runtime import check_database, settings_with_logging
from gateway.core.errors import ConfigError
from gateway.core.logs import get_logger
from gateway.core.settings import Settings

log = get_logger("gateway.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

DEFAULT_GRACEFUL_TIMEOUT = 30
WORKER_HEALTHCHECK_SECONDS = 60
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="API processes sharing the port (about one per CPU core).",
)
@click.option(
    "--graceful-timeout",
    default=DEFAULT_GRACEFUL_TIMEOUT,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds a stop waits for requests in flight before it cancels them.",
)
def serve(host: str, port: int, workers: int, graceful_timeout: int) -> None:
    """Serve the API (with /health/live, /health/ready, /health/integrations, /metrics and /schema)."""
    settings = settings_with_logging()
    settings.require_key_ring()
    check_database(settings)
    private_dir = prepare_metrics_dir(settings, workers)
    if workers > 1 and settings.redis_url is None:
        # Allowed (leases keep one run per link), but say what it costs.
        log.warning(
            "several workers without REDIS_URL: each process runs its own jobs, and live updates reach only the "
            "pages that process serves"
        )
    click.echo(f"serving on http://{host}:{port} with {workers} worker{'s' if workers > 1 else ''}", err=True)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "server_header": False,
        "timeout_graceful_shutdown": graceful_timeout,
        # A new worker process imports the whole gateway before it can answer the supervisor's first ping; on a
        # busy machine that takes longer than uvicorn's 5 s, and the worker would be killed as hung, again and again.
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
    }
    try:
        if workers == 1:
            uvicorn.run(Draining(create_app(settings), settings.metrics_dir), **options)
        else:
            # Each worker process imports the app factory and builds its app from the environment.
            uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=workers, **options)
    finally:
        if private_dir is not None:
            shutil.rmtree(private_dir, ignore_errors=True)


def app_from_environment() -> ASGIApp:
    """The app of one `--workers` process: settings and logging from the environment, as the parent read them."""
    settings = settings_with_logging()
    return Draining(create_app(settings), settings.metrics_dir)


def prepare_metrics_dir(settings: Settings, workers: int) -> Path | None:
    """Make `PROMETHEUS_MULTIPROC_DIR` ready; with several workers and none set, make a private one for them.

    Returns the private directory (removed when serving ends), else None. Counters of processes that ended stay in
    the directory (they are part of the sums); only their live gauges are removed.
    """
    if settings.metrics_dir is not None:
        path = Path(settings.metrics_dir)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{METRICS_DIR_ENV} {path} cannot be created: {exc.strerror}") from None
        if not os.access(path, os.W_OK):
            raise ConfigError(f"{METRICS_DIR_ENV} {path} is not writable")
        forget_dead_processes(path)
        return None
    if workers == 1:
        return None
    private = Path(tempfile.mkdtemp(prefix="gateway-metrics-"))
    # Read by prometheus-client in each worker process (they start after this, with this environment).
    os.environ[METRICS_DIR_ENV] = str(private)
    return private


def forget_dead_processes(path: Path) -> None:
    from prometheus_client import multiprocess

    for file in path.glob("gauge_live*_*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(path))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Draining:
    """ASGI wrapper: once the server is told to stop, a request that has read its body hears its client leave.

    uvicorn stops accepting and waits for requests in flight, but a live-update stream (server-sent events) never
    ends by itself and would hold the stop until the timeout cancels everything, requests in flight included. The
    only thing such a stream waits for after its request is read is the client's disconnect, so that is what it
    gets; an ordinary request has read its body and does not ask again, so it runs to its end.
    """

    def __init__(self, app: ASGIApp, metrics_dir: str | None = None) -> None:
        self.app = app
        self.metrics_dir = metrics_dir
        self.stopping: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._lifespan(receive), send)
        elif scope["type"] == "http":
            await self.app(scope, self._request(receive), send)
        else:
            await self.app(scope, receive, send)

    def _lifespan(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._listen_for_stop()
            elif message["type"] == "lifespan.shutdown" and self.metrics_dir:
                _forget_process(self.metrics_dir)
            return message

        return wrapped

    def _listen_for_stop(self) -> None:
        """Chain onto the server's SIGTERM and SIGINT handlers (installed before the app starts)."""
        import threading

        self.stopping = asyncio.Event()
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        stopping = self.stopping
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)

            def handler(number: int, frame: FrameType | None, previous: Any = previous) -> None:
                loop.call_soon_threadsafe(stopping.set)
                if callable(previous):
                    previous(number, frame)

            signal.signal(sig, handler)

    def _request(self, receive: Receive) -> Receive:
        body_read = False

        async def wrapped() -> Message:
            nonlocal body_read
            if body_read and self.stopping is not None:
                return await self._until_stopping(receive, self.stopping)
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_read = True
            return message

        return wrapped

    @staticmethod
    async def _until_stopping(receive: Receive, stopping: asyncio.Event) -> Message:
        if stopping.is_set():
            return {"type": "http.disconnect"}
        next_message = asyncio.ensure_future(receive())
        stop = asyncio.ensure_future(stopping.wait())
        try:
            done, _ = await asyncio.wait({next_message, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (next_message, stop):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        if next_message in done:
            return next_message.result()
        return {"type": "http.disconnect"}


def _forget_process(metrics_dir: str) -> None:
    """This process stops: its live gauges (requests in progress) leave the sums; its counters stay."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid(), metrics_dir)  # type: ignore[no-untyped-call]
