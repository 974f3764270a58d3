"""Small helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Ticket
from gateway.core.ticket_cache import cached_ticket

GATEWAY = str(Path(sys.executable).parent / "gateway")
Run = Callable[..., subprocess.CompletedProcess[str]]


def libpq_conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL, for talking to the database with psycopg directly."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_connect(database_url: str, *, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(libpq_conninfo(database_url), autocommit=autocommit)


def clean_environment(**values: str) -> dict[str, str]:
    """The process environment without any gateway settings of the developer's, plus `values`."""
    names = ("DATABASE_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") and k not in names}
    env.update(values)
    return env


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exactly one line says what went wrong, and it is the last one (log lines may come before it)."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:], result.stderr
    assert expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


class Workers:
    """Start and stop `gateway worker` processes; their logs go to files in the test's tmp_path."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env = env
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen([GATEWAY, "worker"], env=self.env, stdout=log, stderr=log)
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.tmp_path.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def cached_ticket_in(database_url: str, system_id: int, key: str) -> Ticket | None:
    """The ticket cache's row for `key`, read in a session of its own (webhooks fill the cache in a job)."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await cached_ticket(session, system_id, key)
    finally:
        await engine.dispose()


async def eventually(check: Callable[[], Any], *, within: float, what: str, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within:g} s\n{logs()[-4000:]}")
        await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_gateway(port: int, env: dict[str, str], log_path: Path, *, within: float = 30) -> Iterator[None]:
    """`gateway serve` on a loopback port, answering /health/live, until the block ends."""
    with log_path.open("w") as log:
        server = subprocess.Popen([GATEWAY, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + within
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, f"gateway serve did not answer within {within:g} s"
                    time.sleep(0.2)
            yield
        finally:
            server.terminate()
            server.wait(timeout=10)


def signature_of(function: Callable[..., Any]) -> str:
    """A function's signature as the connector guide writes it: `async def name(self, a: A) -> R` (annotations as
    written in the source, which `from __future__ import annotations` keeps as text)."""
    import inspect

    signature = inspect.signature(function)
    parameters = [
        name if parameter.annotation is inspect.Parameter.empty else f"{name}: {parameter.annotation}"
        for name, parameter in signature.parameters.items()
    ]
    returns = "" if signature.return_annotation is inspect.Signature.empty else f" -> {signature.return_annotation}"
    prefix = "async def" if inspect.iscoroutinefunction(function) else "def"
    return f"{prefix} {function.__name__}({', '.join(parameters)}){returns}"


async def run_in_session(database_url: str, work: Callable[[AsyncSession], Any]) -> Any:
    """Run `work(session)` in one transaction on `database_url` and commit."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()
