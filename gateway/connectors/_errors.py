"""The typed errors a connector raises, and the mapping of a failed HTTP answer onto them.

The sync engine acts on the type, never on the message: `RateLimited` and `Transient` defer the run, `AuthExpired`
refreshes once and repeats the call, `AuthRevoked` asks the user to connect again, `NotFound` and `Rejected` settle
the one entry as failed (or, for `NotFound` on an update, as deleted in the tracker). Messages are shown to users:
readable, and never holding a secret.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx


class ConnectorError(Exception):
    """Base of the errors a connector raises; the message is readable and holds no secret."""


class RateLimited(ConnectorError):
    """The tracker asks to slow down; try again after `retry_after` seconds (None: back off on our own)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthExpired(ConnectorError):
    """The access token is no longer accepted; a refresh may help."""


class AuthRevoked(ConnectorError):
    """The grant is gone (revoked, refresh token rejected, a token that cannot refresh): connect again."""


class NotFound(ConnectorError):
    """The ticket or worklog does not exist in the tracker (or is not visible to the user)."""


class Transient(ConnectorError):
    """A failure that may pass: a timeout, a 5xx, a dropped connection."""


class Rejected(ConnectorError):
    """The tracker refused the request itself (validation, permission); retrying the same will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (it may be a number of seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


def error_for_response(response: httpx.Response, what: str) -> ConnectorError:
    """The typed error for a failed tracker response: 401 expired, 404 gone, 429 slow down, 5xx later, else refused."""
    status = response.status_code
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if status == 401:
        return AuthExpired(f"{what}: the tracker no longer accepts the credentials (401)")
    if status == 404:
        return NotFound(f"{what}: not found in the tracker (404)")
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimited(f"{what}: the tracker asks to slow down ({status})", retry_after)
    if status >= 500:
        return Transient(f"{what}: the tracker failed ({status})")
    return Rejected(f"{what}: the tracker refused it ({status}): {_reason(response)}")


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    for key in ("errors", "errorMessages", "error_description", "message", "error"):
        value = body.get(key) if isinstance(body, dict) else None
        if value:
            return "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    return str(body)[:300]
