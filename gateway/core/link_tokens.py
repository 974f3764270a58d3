"""Usable credentials for a link, refreshed before they expire — one refresh per link at a time.

GitLab and Jira Cloud rotate refresh tokens: a refresh returns a new one and invalidates the old, and a second
refresh with the old one can revoke the whole grant. So a refresh happens under a row lock on the link, in a
transaction of its own that stores the new tokens and commits before anything else uses them. Whoever waited
for the lock then finds fresh tokens and does not refresh again. A refused refresh marks the link "reconnect
needed" instead of trying again and again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.connectors import AuthRevoked, Connector, Credentials
from gateway.core import metrics
from gateway.core.links import EXPIRY_MARGIN
from gateway.core.models import Link
from gateway.core.secrets_at_rest import open_credentials, store_credentials
from gateway.core.vault import KeyRing


async def usable_credentials(
    session_factory: async_sessionmaker[AsyncSession],
    link_id: int,
    connector: Connector[Any],
    key_ring: KeyRing,
    *,
    now: datetime,
    rejected_token: str | None = None,
) -> Credentials:
    """The link's credentials, refreshed first when they expire soon or when `rejected_token` was just refused.

    Raises `AuthRevoked` when the link is not connected or the tracker refuses the refresh.
    """
    async with session_factory() as session, session.begin():
        link = await session.scalar(select(Link).where(Link.id == link_id).with_for_update())
        if link is None:
            raise AuthRevoked(f"link {link_id} no longer exists")
        if link.needs_reconnect:
            raise AuthRevoked("the tracker refused this link's grant earlier; the user must connect again")
        credentials = open_credentials(link, key_ring)
        if credentials is None:
            raise AuthRevoked("the user has not connected this link")
        if not _needs_refresh(credentials, now=now, rejected_token=rejected_token):
            return credentials
        try:
            refreshed = await connector.refresh(credentials)
        except AuthRevoked as exc:
            metrics.token_refreshed(connector.name, "reconnect_needed")
            # Committed with the transaction (raising inside it would roll the mark back).
            link.needs_reconnect = True
            link.last_error = str(exc)
            refused = exc
        except Exception:
            metrics.token_refreshed(connector.name, "failed")
            raise
        else:
            metrics.token_refreshed(connector.name, "ok")
            store_credentials(link, refreshed, key_ring)
            return refreshed
    raise refused


def _needs_refresh(credentials: Credentials, *, now: datetime, rejected_token: str | None) -> bool:
    if rejected_token is not None:
        # Another worker may have refreshed while this one waited for the lock: then the stored token is new.
        return credentials.access_token == rejected_token
    return credentials.expires_at is not None and credentials.expires_at - now <= EXPIRY_MARGIN
