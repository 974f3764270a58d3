"""`gateway keys rotate`: after it, every stored secret decrypts with the new key alone."""

from __future__ import annotations

import asyncio

from gateway.connectors import Credentials
from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Link, TicketSystem
from gateway.core.secrets_at_rest import open_credentials, open_system_secrets, seal_system_secrets, store_credentials
from gateway.core.users import create_user
from gateway.core.vault import KeyRing, generate_key_line, key_id_of
from tests.support import Run, assert_one_line_error


async def store_secrets(database_url: str, key_ring: KeyRing) -> None:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        user = await create_user(session, "ada", password=None)
        system = TicketSystem(
            name="T",
            type="tasklog",
            base_url="http://x",
            secrets=seal_system_secrets({"client_secret": "cs"}, key_ring),
        )
        session.add(system)
        await session.flush()
        link = Link(user_id=user.id, ticket_system_id=system.id, enabled=True)
        store_credentials(link, Credentials(access_token="at-1", secret="rt-1"), key_ring)
        session.add(link)
        await session.commit()
    await engine.dispose()


async def stored_values(database_url: str) -> tuple[Link, TicketSystem]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        link = await session.get(Link, 1)
        system = await session.get(TicketSystem, 1)
    await engine.dispose()
    assert link is not None
    assert system is not None
    return link, system


def test_rotation_re_encrypts_everything_with_the_first_key(run_gateway: Run, pg_url: str) -> None:
    old, new = generate_key_line("old"), generate_key_line("new")
    asyncio.run(store_secrets(pg_url, KeyRing.parse(old)))

    result = run_gateway("keys", "rotate", DATABASE_URL=pg_url, GATEWAY_SECRET_KEYS=f"{new},{old}")
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 3 of 3 stored secrets with key new" in result.stdout
    assert "no stored secret needs key old any more" in result.stdout

    link, system = asyncio.run(stored_values(pg_url))
    assert {key_id_of(v) for v in (link.access_token, link.token_secret, system.secrets) if v} == {"new"}
    new_only = KeyRing.parse(new)
    credentials = open_credentials(link, new_only)
    assert credentials is not None
    assert (credentials.access_token, credentials.secret) == ("at-1", "rt-1")
    assert open_system_secrets(system, new_only) == {"client_secret": "cs"}

    again = run_gateway("keys", "rotate", DATABASE_URL=pg_url, GATEWAY_SECRET_KEYS=new)
    assert "re-encrypted 0 of 3" in again.stdout


def test_rotation_without_the_key_that_wrote_a_secret_names_that_key(run_gateway: Run, pg_url: str) -> None:
    asyncio.run(store_secrets(pg_url, KeyRing.parse(generate_key_line("2026-01"))))
    result = run_gateway("keys", "rotate", DATABASE_URL=pg_url, GATEWAY_SECRET_KEYS=generate_key_line("2026-11"))
    assert_one_line_error(result, "encrypted with key '2026-01', which is not in the key ring")
