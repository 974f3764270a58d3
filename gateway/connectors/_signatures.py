"""Checking webhook signatures without leaking, through timing, how much of a secret matched."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` with `secret` (the signature most trackers send)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the time taken does not reveal how much of a secret matched."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
