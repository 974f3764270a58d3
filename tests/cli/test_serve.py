from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.support import GATEWAY, clean_environment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_ready_on_a_migrated_database(pg_url: str, redis_url: str, key_line: str, tmp_path: Path) -> None:
    port = free_port()
    env = clean_environment(DATABASE_URL=pg_url, REDIS_URL=redis_url, GATEWAY_SECRET_KEYS=key_line)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([GATEWAY, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "gateway serve did not answer within 30 s"
                time.sleep(0.2)
        assert response.status_code == 200
        checks = response.json()["checks"]
        assert (checks["database"], checks["redis"]) == ({"status": "ok"}, {"status": "ok"})
        assert checks["plugins"]["status"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    assert key_line.split(":", 1)[1] not in (tmp_path / "serve.log").read_text()
