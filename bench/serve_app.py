"""The gateway as `gateway serve` runs it, plus bare Litestar endpoints (the floor a request cannot go below).

    python -m bench.serve_app PORT        (DATABASE_URL and GATEWAY_SECRET_KEYS from the environment)

`/api/bench/bare` answers GET and POST with a constant, through the same app, middleware and server as the API.
"""

from __future__ import annotations

import sys

import uvicorn
from litestar import get, post

from gateway.app import create_app
from gateway.cli._runtime import settings_with_logging


@get("/api/bench/bare", include_in_schema=False, sync_to_thread=False)
def bare_get() -> dict[str, str]:
    return {"status": "ok"}


@post("/api/bench/bare", include_in_schema=False, status_code=202, sync_to_thread=False)
def bare_post(body: bytes) -> dict[str, str]:
    return {"status": "accepted"}


def main() -> None:
    app = create_app(settings_with_logging())
    app.register(bare_get)
    app.register(bare_post)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)


if __name__ == "__main__":
    main()
