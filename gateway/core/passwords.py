"""Password hashing with Argon2id, a memory-hard KDF (argon2-cffi's defaults: 64 MiB, 3 passes)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.core.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if password.strip() != password:
        raise InvalidInput("the password must not start or end with white space", field="password")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's; rehash after a successful login."""
    return _hasher.check_needs_rehash(password_hash)
