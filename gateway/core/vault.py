"""Encryption of secrets at rest with a key ring from the environment.

A key ring is an ordered list of named Fernet keys: the first key encrypts, every key decrypts. A ciphertext
names the key that wrote it (``gw1:<key id>:<Fernet token>``), so a missing key is reported by its id instead
of being guessed at, and rotation can re-encrypt row by row while old and new keys are both configured.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken

from gateway.core.errors import KeyRingError

CIPHERTEXT_PREFIX = "gw1"
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


class KeyRing:
    """Named Fernet keys; the first one encrypts. The repr shows key ids only, never key material."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[tuple[str, str]]) -> None:
        self._keys: dict[str, Fernet] = {}
        for key_id, key in keys:
            if not _KEY_ID.match(key_id):
                raise KeyRingError(
                    f"secret key id {key_id!r} is invalid: use letters, digits, '_', '.' or '-' (at most 32)"
                )
            if key_id in self._keys:
                raise KeyRingError(f"secret key id {key_id!r} appears twice in the key ring")
            try:
                self._keys[key_id] = Fernet(key)
            except (ValueError, TypeError):
                raise KeyRingError(
                    f"secret key {key_id!r} is not a valid key: expected 32 bytes in url-safe base64 "
                    "(`gateway keys generate` makes one)"
                ) from None
        if not self._keys:
            raise KeyRingError("the secret key ring is empty")

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Read ``id:key`` items separated by commas or newlines; ``#`` starts a comment to the end of the line."""
        items: list[tuple[str, str]] = []
        for line in text.splitlines():
            for raw in line.split("#", 1)[0].split(","):
                item = raw.strip()
                if not item:
                    continue
                key_id, sep, key = item.partition(":")
                if not sep or not key.strip():
                    raise KeyRingError("each secret key must be written as <id>:<key>, e.g. 2026-11:abc…=")
                items.append((key_id.strip(), key.strip()))
        return cls(items)

    @property
    def primary_id(self) -> str:
        """The id of the key that encrypts new values."""
        return next(iter(self._keys))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def encrypt(self, plaintext: str) -> str:
        token = self._keys[self.primary_id].encrypt(plaintext.encode()).decode("ascii")
        return f"{CIPHERTEXT_PREFIX}:{self.primary_id}:{token}"

    def decrypt(self, ciphertext: str) -> str:
        key_id = key_id_of(ciphertext)
        fernet = self._keys.get(key_id)
        if fernet is None:
            raise KeyRingError(
                f"a stored secret was encrypted with key {key_id!r}, which is not in the key ring; "
                "add that key back to decrypt it"
            )
        token = ciphertext.split(":", 2)[2]
        try:
            return fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise KeyRingError(
                f"a stored secret does not decrypt with key {key_id!r}: the key is wrong or the value is damaged"
            ) from None

    def needs_reencryption(self, ciphertext: str) -> bool:
        """True when a value was written with a key other than the primary one."""
        return key_id_of(ciphertext) != self.primary_id

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={list(self._keys)!r})"


def is_ciphertext(value: str) -> bool:
    """Whether a stored value is in the vault's format (as opposed to a legacy clear value)."""
    parts = value.split(":", 2)
    return len(parts) == 3 and parts[0] == CIPHERTEXT_PREFIX and bool(_KEY_ID.match(parts[1]))


def key_id_of(ciphertext: str) -> str:
    if not is_ciphertext(ciphertext):
        raise KeyRingError("a stored secret is not in the encrypted format; it may never have been encrypted")
    return ciphertext.split(":", 2)[1]


def generate_key_line(key_id: str | None = None) -> str:
    """A new ``id:key`` item; the default id is the current UTC month plus a random suffix."""
    key_id = key_id or f"{datetime.now(UTC):%Y-%m}-{secrets.token_hex(2)}"
    if not _KEY_ID.match(key_id):
        raise KeyRingError(f"secret key id {key_id!r} is invalid: use letters, digits, '_', '.' or '-'")
    return f"{key_id}:{Fernet.generate_key().decode('ascii')}"
