"""The one place where stored secrets are encrypted and decrypted.

Everything secret the gateway stores goes through here: the tokens of users' links, a ticket system's app-level
secrets, the PKCE verifier of an authorisation in progress. Values are encrypted with the key ring's first key
before they reach the database, and decrypted only to hand them to the connector call that needs them.
`rotate` re-encrypts what older keys wrote, so those keys can then be removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import Credentials
from gateway.core.models import Link, OAuthState, TicketSystem
from gateway.core.vault import KeyRing

ROTATION_BATCH = 200


def seal(value: str | None, key_ring: KeyRing) -> str | None:
    return None if value is None else key_ring.encrypt(value)


def unseal(value: str | None, key_ring: KeyRing) -> str | None:
    return None if value is None else key_ring.decrypt(value)


def seal_system_secrets(secrets: dict[str, str], key_ring: KeyRing) -> str | None:
    return key_ring.encrypt(json.dumps(secrets, sort_keys=True)) if secrets else None


def open_system_secrets(system: TicketSystem, key_ring: KeyRing) -> dict[str, str]:
    """A ticket system's app-level secrets, decrypted: for a connector, never for a response or a log."""
    if not system.secrets:
        return {}
    opened: dict[str, str] = json.loads(key_ring.decrypt(system.secrets))
    return opened


def store_credentials(link: Link, credentials: Credentials, key_ring: KeyRing) -> None:
    link.access_token = key_ring.encrypt(credentials.access_token)
    link.token_secret = seal(credentials.secret, key_ring)
    link.token_expires_at = credentials.expires_at
    if credentials.account_id is not None:
        link.remote_account_id = credentials.account_id
    if credentials.site_id is not None:
        link.remote_site_id = credentials.site_id
    link.remote_login = credentials.login


def open_credentials(link: Link, key_ring: KeyRing) -> Credentials | None:
    """The link's credentials, decrypted; None when the user has not connected."""
    if link.access_token is None:
        return None
    return Credentials(
        access_token=key_ring.decrypt(link.access_token),
        secret=unseal(link.token_secret, key_ring),
        expires_at=link.token_expires_at,
        account_id=link.remote_account_id,
        timezone=link.remote_timezone,
        site_id=link.remote_site_id,
        login=link.remote_login,
    )


def forget_credentials(link: Link) -> None:
    link.access_token = link.token_secret = None
    link.token_expires_at = None
    link.remote_login = link.remote_site_id = None


@dataclass
class RotationResult:
    values: int = 0
    reencrypted: int = 0


# (model, columns holding vault ciphertext)
_ENCRYPTED_COLUMNS: list[tuple[type, tuple[str, ...]]] = [
    (Link, ("access_token", "token_secret")),
    (TicketSystem, ("secrets",)),
    (OAuthState, ("code_verifier",)),
]


async def count_secrets(session: AsyncSession) -> int:
    total = 0
    for model, columns in _ENCRYPTED_COLUMNS:
        for row in (await session.scalars(_rows_with_secrets(model, columns))).all():
            total += sum(getattr(row, column) is not None for column in columns)
    return total


async def rotate(
    session: AsyncSession, key_ring: KeyRing, *, progress: Callable[[int], None] = lambda _n: None
) -> RotationResult:
    """Re-encrypt with the first key every stored secret that another key wrote; commits batch by batch.

    A value written with a key that is no longer in the ring stops the run with an error naming that key, and
    everything re-encrypted before it stays committed; running again after adding the key finishes the job.
    """
    result = RotationResult()
    for model, columns in _ENCRYPTED_COLUMNS:
        last_id = 0
        while True:
            stmt = _rows_with_secrets(model, columns).where(model.id > last_id).order_by(model.id)  # type: ignore[attr-defined]
            rows = (await session.scalars(stmt.limit(ROTATION_BATCH))).all()
            if not rows:
                break
            for row in rows:
                for column in columns:
                    value = getattr(row, column)
                    if value is None:
                        continue
                    result.values += 1
                    if key_ring.needs_reencryption(value):
                        setattr(row, column, key_ring.encrypt(key_ring.decrypt(value)))
                        result.reencrypted += 1
                    progress(1)
            last_id = rows[-1].id
            await session.commit()
    return result


def _rows_with_secrets(model: type, columns: tuple[str, ...]) -> Select[Any]:
    return select(model).where(or_(*(getattr(model, column).is_not(None) for column in columns)))
