"""Logging in with a username and password: local accounts first, then LDAP; failures are rate-limited."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.ldap import LdapConfig, bind_as_user
from gateway.core.errors import AuthenticationFailed, TooManyAttempts
from gateway.core.models import LoginAttempt, User
from gateway.core.passwords import hash_password, needs_rehash, verify_password
from gateway.core.users import create_user, get_user_by_username

FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
WRONG_CREDENTIALS = "wrong username or password"


async def log_in(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    address: str,
    now: datetime,
    ldap: LdapConfig | None,
) -> User:
    """The user whose credentials these are, or `AuthenticationFailed` (the same for any reason).

    A failure is committed at once, whatever happens to the caller's transaction, so that it counts.
    """
    await _refuse_when_throttled(session, username, address, now)
    user = await get_user_by_username(session, username)
    if user is not None and (user.deleted_at is not None or not user.active):
        user = None
    if user is not None and user.password_hash is not None:
        authenticated = verify_password(user.password_hash, password)
        if authenticated and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    elif ldap is not None and (user is None or user.password_hash is None):
        directory_user = await asyncio.to_thread(bind_as_user, ldap, username, password)
        authenticated = directory_user is not None
        if directory_user is not None and user is None:
            user = await create_user(
                session,
                username,
                password=None,
                user_type=ldap.user_type,
                display_name=directory_user.display_name,
                email=directory_user.email,
            )
    else:
        # Spend the time a real check takes, so response times do not tell which usernames exist.
        verify_password(_decoy_hash(), password)
        authenticated = False

    if not authenticated or user is None:
        await session.rollback()
        session.add(LoginAttempt(username=username[:128], address=address[:64], attempted_at=now))
        # Attempts that no longer count are dropped here, where the indexes on username and address reach them.
        expired = LoginAttempt.attempted_at <= now - FAILURE_WINDOW
        await session.execute(
            delete(LoginAttempt).where(expired, (LoginAttempt.username == username) | (LoginAttempt.address == address))
        )
        await session.commit()
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    await session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    return user


async def _refuse_when_throttled(session: AsyncSession, username: str, address: str, now: datetime) -> None:
    since = now - FAILURE_WINDOW
    for column, value, limit, what in (
        (LoginAttempt.username, username, MAX_FAILURES_PER_USERNAME, "this username"),
        (LoginAttempt.address, address, MAX_FAILURES_PER_ADDRESS, "this address"),
    ):
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(LoginAttempt.attempted_at)).where(
                    column == value, LoginAttempt.attempted_at > since
                )
            )
        ).one()
        if count >= limit:
            retry_after = max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1)
            raise TooManyAttempts(f"too many failed logins for {what}; try again in {retry_after} s", retry_after)


@cache
def _decoy_hash() -> str:
    return hash_password("decoy-password-never-matches")
