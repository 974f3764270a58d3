"""The one way a sync says "not now": the runner retries after `retry_after` seconds, or after a backoff."""

from __future__ import annotations


class Deferred(Exception):
    """Stop now and run again later: after `retry_after` seconds, or after a backoff of the runner's choice."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
