from __future__ import annotations

from pathlib import Path

import httpx

from tests.support import clean_environment, free_port, serve_gateway


def test_serve_answers_ready_on_a_migrated_database(pg_url: str, redis_url: str, key_line: str, tmp_path: Path) -> None:
    port = free_port()
    env = clean_environment(DATABASE_URL=pg_url, REDIS_URL=redis_url, GATEWAY_SECRET_KEYS=key_line)
    with serve_gateway(port, env, tmp_path / "serve.log"):
        response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert (checks["database"], checks["redis"]) == ({"status": "ok"}, {"status": "ok"})
    assert checks["plugins"]["status"] == "ok"
    assert key_line.split(":", 1)[1] not in (tmp_path / "serve.log").read_text()
