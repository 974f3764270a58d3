"""The API against its own OpenAPI description, fuzzed by Schemathesis with every check on.

A real `gateway serve` on PostgreSQL, with the small company of `tests/api/world.py` and a Tasklog system linked
for `dev_a`, is attacked as an ADMIN and as a DEV: examples, coverage, fuzzing and stateful phases. The run
fails on any server error, any status or content type the description does not list, and any response that
does not match its schema. The seed is fixed so CI is repeatable; `FUZZ_SEED=random` explores afresh.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.world import World
from tests.support import clean_environment, free_port, serve_gateway

FUZZ = Path(__file__).with_name("fuzz")
SCHEMATHESIS = str(Path(sys.executable).parent / "st")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
SEED = os.environ.get("FUZZ_SEED", "20261201")


@pytest.fixture
def gateway_url(world: World, linked: int, key_line: str, tmp_path: Path) -> Iterator[str]:
    """`gateway serve` on the test company, with dev_a's Tasklog link (its fake tracker runs in this process)."""
    port = free_port()
    env = clean_environment(DATABASE_URL=world.database_url, GATEWAY_SECRET_KEYS=key_line, GATEWAY_LOG_LEVEL="WARNING")
    with serve_gateway(port, env, tmp_path / "serve.log"):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("username", ["admin", "dev_a"])
async def test_the_api_keeps_every_promise_of_its_openapi_description(
    gateway_url: str, world: World, username: str, tmp_path: Path
) -> None:
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(FUZZ / "schemathesis.toml"),
        "run",
        f"{gateway_url}/schema/openapi.json",
    ]
    # Every check is on through the config file (a `--checks` option would override its per-operation settings).
    command += ["--max-examples", str(MAX_EXAMPLES), "--no-color", "--workers", "1"]
    command += [] if SEED == "random" else ["--seed", SEED]
    env = clean_environment(
        SCHEMATHESIS_HOOKS="tests.api.fuzz.hooks",
        FUZZ_DATABASE_URL=world.database_url,
        FUZZ_USERNAME=username,
        PYTHONPATH=str(Path(__file__).parents[2]),
    )
    result = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False
    )
    report = tmp_path / "schemathesis.log"
    report.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"the whole report: {report}\n" + result.stdout[-6000:] + result.stderr[-2000:]
