"""A loopback proxy in front of the real Redmine that can answer the next request with an injected failure.

Redmine cannot be told to answer 429 or 503; the conformance suite needs that, so requests pass through here.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.lock = threading.Lock()

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.failures.append((status, headers or {}))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            status, headers = failure
            body = b'{"errors": ["injected failure"]}'
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        *((k.encode(), v.encode()) for k, v in headers.items()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope["query_string"].decode()
        url = f"{self.upstream}{scope['path']}" + (f"?{query}" if query else "")
        headers = [
            (k.decode(), v.decode()) for k, v in scope["headers"] if k.lower() not in (b"host", b"content-length")
        ]
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.request(scope["method"], url, headers=headers, content=body)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status_code,
                "headers": [
                    (k.encode(), v.encode())
                    for k, v in answer.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.content})
