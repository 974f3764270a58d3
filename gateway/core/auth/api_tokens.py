"""Personal API tokens: shown once at creation, stored as a hash, revocable, with their last use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.auth.tokens import hash_token, new_token
from gateway.core.crud import get_one
from gateway.core.errors import InvalidInput
from gateway.core.master_data.types import NOT_BLANK
from gateway.core.models import ApiToken, User

TOKEN_PREFIX = "gwt"  # a public marker at the start of every token
# Last use is written at most this often, so every API call does not become a write.
TOUCH_EVERY = timedelta(minutes=1)


class ApiTokenCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NOT_BLANK)]
    expires_at: datetime | None = None


async def create_api_token(
    session: AsyncSession, caller: Caller, data: ApiTokenCreate, *, now: datetime
) -> tuple[ApiToken, str]:
    """A new token for the caller: the stored row and the token itself, which is never shown again."""
    if data.expires_at is not None:
        if data.expires_at.tzinfo is None:
            raise InvalidInput("expires_at needs a time zone, e.g. 2027-01-01T00:00:00Z", field="expires_at")
        if data.expires_at <= now:
            raise InvalidInput("expires_at must lie in the future", field="expires_at")
    token = new_token(TOKEN_PREFIX)
    row = ApiToken(
        user_id=caller.user_id,
        name=data.name.strip(),
        token_hash=hash_token(token),
        token_prefix=token[: len(TOKEN_PREFIX) + 5],
        scopes=[],
        created_at=now,
        expires_at=data.expires_at,
    )
    session.add(row)
    await session.flush()
    return row, token


async def list_api_tokens(session: AsyncSession, caller: Caller) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == caller.user_id).order_by(ApiToken.created_at, ApiToken.id)
    return list((await session.scalars(stmt)).all())


async def revoke_api_token(session: AsyncSession, caller: Caller, token_id: int, *, now: datetime) -> None:
    row = await get_one(
        session,
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == caller.user_id),
        "API token",
        token_id,
    )
    if row.revoked_at is None:
        row.revoked_at = now
    await session.flush()


async def user_of_api_token(session: AsyncSession, token: str, *, now: datetime) -> User | None:
    """The active user a valid (not revoked, not expired) token belongs to; records its use."""
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == hash_token(token),
                ApiToken.revoked_at.is_(None),
                User.active.is_(True),
                User.deleted_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.expires_at is not None and api_token.expires_at <= now:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOUCH_EVERY:
        api_token.last_used_at = now
    return user
