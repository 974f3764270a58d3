"""Server-side browser sessions, with an optional long-lived remember-me token.

Both are random tokens of which only a SHA-256 hash is stored. A session expires after `SESSION_IDLE` without
use; a remember-me token, valid for `REMEMBER_FOR`, starts a fresh session when the old one has expired and is
replaced by a new token each time it does (a stolen, already used token is then worthless).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.tokens import hash_token, new_token
from gateway.core.models import LoginSession, User

SESSION_IDLE = timedelta(hours=8)
REMEMBER_FOR = timedelta(days=30)
# Sliding expiry is written at most this often, so a busy browser does not write on every request.
TOUCH_EVERY = timedelta(minutes=5)
SESSION, REMEMBER = "session", "remember"


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """Tokens to hand to the browser; the remember-me token only when one was asked for or rotated."""

    session_token: str
    remember_token: str | None = None


async def start_session(session: AsyncSession, user: User, *, remember: bool, now: datetime) -> IssuedTokens:
    session_token = await _issue(session, user.id, SESSION, now + SESSION_IDLE, now)
    remember_token = await _issue(session, user.id, REMEMBER, now + REMEMBER_FOR, now) if remember else None
    return IssuedTokens(session_token, remember_token)


async def resume_session(
    session: AsyncSession, session_token: str | None, remember_token: str | None, *, now: datetime
) -> tuple[User, IssuedTokens | None] | None:
    """The user of a live session, or of a valid remember-me token (then with the new tokens to set)."""
    if session_token:
        found = await _live(session, session_token, SESSION, now)
        if found is not None:
            login, user = found
            if now - login.last_used_at >= TOUCH_EVERY:
                login.last_used_at = now
                login.expires_at = now + SESSION_IDLE
            return user, None
    if remember_token:
        found = await _live(session, remember_token, REMEMBER, now)
        if found is not None:
            login, user = found
            await session.delete(login)
            tokens = await start_session(session, user, remember=True, now=now)
            return user, tokens
    return None


async def end_session(session: AsyncSession, *tokens: str | None) -> None:
    hashes = [hash_token(token) for token in tokens if token]
    if hashes:
        await session.execute(delete(LoginSession).where(LoginSession.token_hash.in_(hashes)))


async def end_all_sessions(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


async def _issue(session: AsyncSession, user_id: int, kind: str, expires_at: datetime, now: datetime) -> str:
    token = new_token("gws" if kind == SESSION else "gwr")
    session.add(
        LoginSession(
            user_id=user_id,
            token_hash=hash_token(token),
            kind=kind,
            created_at=now,
            last_used_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return token


async def _live(session: AsyncSession, token: str, kind: str, now: datetime) -> tuple[LoginSession, User] | None:
    row = (
        await session.execute(
            select(LoginSession, User)
            .join(User, User.id == LoginSession.user_id)
            .where(
                LoginSession.token_hash == hash_token(token),
                LoginSession.kind == kind,
                LoginSession.expires_at > now,
                User.active.is_(True),
                User.deleted_at.is_(None),
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])
