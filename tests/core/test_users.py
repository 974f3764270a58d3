from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.enums import UserType
from gateway.core.errors import Conflict, InvalidInput, NotFound
from gateway.core.passwords import verify_password
from gateway.core.users import create_user, get_user_by_username, set_password


async def test_a_created_user_has_a_hashed_password(session: AsyncSession) -> None:
    user = await create_user(session, "ada", password="correct horse battery", user_type=UserType.ADMIN)
    await session.commit()
    stored = await get_user_by_username(session, "ada")
    assert stored is not None
    assert stored.id == user.id
    assert stored.type is UserType.ADMIN
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert "correct horse" not in stored.password_hash
    assert verify_password(stored.password_hash, "correct horse battery")
    assert not verify_password(stored.password_hash, "wrong password")


async def test_a_second_user_with_the_same_name_is_a_conflict(session: AsyncSession) -> None:
    await create_user(session, "ada", password="correct horse battery")
    with pytest.raises(Conflict, match="'ada' already exists"):
        await create_user(session, "ada", password="another password")


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [("bad name", "long enough pw", "username"), ("", "long enough pw", "username"), ("ok", "short", "password")],
)
async def test_invalid_usernames_and_weak_passwords_are_refused(
    session: AsyncSession, username: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await create_user(session, username, password=password)
    assert caught.value.field == field


async def test_set_password_replaces_the_hash(session: AsyncSession) -> None:
    await create_user(session, "ada", password="first password")
    user = await set_password(session, "ada", "second password")
    assert user.password_hash is not None
    assert verify_password(user.password_hash, "second password")
    with pytest.raises(NotFound):
        await set_password(session, "nobody", "second password")
