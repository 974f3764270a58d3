"""Random bearer secrets and the hashes that are stored instead of them."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str) -> str:
    """A random token with a recognisable prefix (so a leaked one can be found by secret scanners)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    """SHA-256 of the token: tokens carry 256 random bits, so a fast hash is safe and lookups stay indexed."""
    return hashlib.sha256(token.encode()).hexdigest()
