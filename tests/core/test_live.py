"""Live updates: what a commit announces, the hub's fan-out, and the Redis channel between processes."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from redis.asyncio import Redis

from gateway.core.db import create_engine, create_session_factory
from gateway.core.entries import EntryCreate, EntryUpdate, create_entry, update_entry
from gateway.core.enums import SyncState
from gateway.core.live import (
    RESYNC,
    STREAM_BACKLOG,
    EntryEvent,
    LinkEvent,
    LiveHub,
    LocalPublisher,
    RedisPublisher,
    Resync,
    decode_events,
    encode_events,
    live_channel,
    own_changes,
    relay,
)
from gateway.core.models import Entry, Link
from gateway.core.plugins import build_registry
from gateway.core.sync.jobs import after_commit_handler
from tests.api.world import World, build_world


class NoQueue:
    async def enqueue(self, name: str, *args: object) -> None:
        pass

    def enqueue_soon(self, name: str, *args: object) -> None:
        pass


def entry_event(user_id: int = 1, entry_id: int = 1, state: SyncState | None = None) -> EntryEvent:
    return EntryEvent(
        user_id=user_id,
        entry_id=entry_id,
        day=date(2026, 11, 23),
        version=1,
        sync_state=state,
        sync_error=None,
        deleted=False,
    )


async def drain(stream_next: object, count: int) -> list[object]:
    items = []
    for _ in range(count):
        items.append(await stream_next(0.5))  # type: ignore[operator]
    return items


# --- The hub ------------------------------------------------------------------------------------------------------


async def test_a_stream_receives_only_the_changes_of_its_user() -> None:
    hub = LiveHub()
    with hub.subscribe(own_changes(7)) as mine, hub.subscribe(own_changes(8)) as theirs:
        hub.deliver([entry_event(user_id=7, entry_id=1), entry_event(user_id=8, entry_id=2)])
        hub.deliver([LinkEvent(user_id=7, ticket_system_id=3)])
        assert await mine.next(0.5) == entry_event(user_id=7, entry_id=1)
        assert await mine.next(0.5) == LinkEvent(user_id=7, ticket_system_id=3)
        assert await mine.next(0.01) is None
        assert await theirs.next(0.5) == entry_event(user_id=8, entry_id=2)
    assert hub.stream_count == 0


async def test_a_reader_that_falls_behind_is_told_to_resync_instead_of_growing_without_bound() -> None:
    hub = LiveHub()
    with hub.subscribe(own_changes(1)) as stream:
        hub.deliver([entry_event(entry_id=n) for n in range(STREAM_BACKLOG + 10)])
        first = await stream.next(0.5)
        assert isinstance(first, Resync)
        # What comes after the resync is delivered normally again.
        hub.deliver([entry_event(entry_id=99999)])
        remaining = []
        while (item := await stream.next(0.01)) is not None:
            remaining.append(item)
        assert remaining[-1] == entry_event(entry_id=99999)
        assert len(remaining) < STREAM_BACKLOG


def test_events_survive_the_trip_through_json() -> None:
    events = [entry_event(state=SyncState.FAILED), LinkEvent(user_id=2, ticket_system_id=5)]
    assert decode_events(encode_events(events)) == events


# --- What a commit announces --------------------------------------------------------------------------------------


@pytest.fixture
async def world_and_hub(database_url: str) -> tuple[World, LiveHub, object]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        world = await build_world(session)
        await session.commit()
    hub = LiveHub()
    on_commit = after_commit_handler(build_registry(load_entry_points=False), NoQueue(), LocalPublisher(hub))
    return world, hub, (engine, create_session_factory(engine, on_commit=on_commit))


async def test_a_committed_booking_is_announced_with_its_state_and_a_rolled_back_one_is_not(
    world_and_hub: tuple[World, LiveHub, object],
) -> None:
    world, hub, (engine, factory) = world_and_hub  # type: ignore[misc]
    booking = EntryCreate(
        day=date(2026, 11, 24),
        start="09:00",
        end="10:00",
        project_id=world.id("projects", "Alpha Web"),
        activity_id=world.id("activities", "Meeting"),
    )
    caller = world.caller("dev_a")
    with hub.subscribe(own_changes(caller.user_id)) as stream:
        async with factory() as session:
            await create_entry(session, caller, booking)
            await session.rollback()
        assert await stream.next(0.05) is None

        async with factory() as session:
            entry = await create_entry(session, caller, booking)
            assert await stream.next(0.01) is None  # not before the commit
            await session.commit()
        event = await stream.next(0.5)
        assert isinstance(event, EntryEvent)
        assert (event.entry_id, event.day, event.version, event.deleted) == (entry.id, booking.day, 1, False)

        async with factory() as session:
            await update_entry(session, caller, entry.id, EntryUpdate(version=1, description="changed"))
            await session.commit()
        changed = await stream.next(0.5)
        assert isinstance(changed, EntryEvent)
        assert changed.version == 2
    await engine.dispose()


async def test_a_sync_state_change_and_a_link_change_are_announced(
    world_and_hub: tuple[World, LiveHub, object],
) -> None:
    """However the change is made (here as the sync engine does: set the state, commit), the page hears of it."""
    world, hub, (engine, factory) = world_and_hub  # type: ignore[misc]
    dev_a = world.users["dev_a"]
    entry_id = world.entries["dev_a"].id
    with hub.subscribe(own_changes(dev_a.id)) as stream:
        async with factory() as session:
            entry = await session.get(Entry, entry_id)
            assert entry is not None
            entry.sync_state = SyncState.FAILED
            entry.sync_error = "the tracker refused: issue is closed"
            session.add(Link(user_id=dev_a.id, ticket_system_id=world.ticket_system.id, enabled=True))  # type: ignore[union-attr]
            await session.commit()
        received = [await stream.next(0.5), await stream.next(0.5)]
    entry_events = [e for e in received if isinstance(e, EntryEvent)]
    assert [(e.sync_state, e.sync_error) for e in entry_events] == [
        (SyncState.FAILED, "the tracker refused: issue is closed")
    ]
    assert LinkEvent(user_id=dev_a.id, ticket_system_id=world.ticket_system.id) in received  # type: ignore[union-attr]
    await engine.dispose()


# --- Across processes, through Redis ------------------------------------------------------------------------------


async def test_events_published_to_redis_reach_the_hub_of_a_listening_process(redis_url: str) -> None:
    publishing, listening = Redis.from_url(redis_url), Redis.from_url(redis_url)
    hub = LiveHub()
    with hub.subscribe(own_changes(1)) as stream:
        relaying = asyncio.create_task(relay(listening, hub))
        # The relay announces its subscription with a resync: whatever was published before was not heard.
        assert await stream.next(5) is RESYNC
        RedisPublisher(publishing).publish_soon([entry_event(state=SyncState.SYNCED), entry_event(user_id=2)])
        assert await stream.next(5) == entry_event(state=SyncState.SYNCED)
        assert await stream.next(0.2) is None
        relaying.cancel()
        with pytest.raises(asyncio.CancelledError):
            await relaying
    await publishing.aclose()
    await listening.aclose()


def test_each_redis_database_has_a_channel_of_its_own() -> None:
    first, second = Redis.from_url("redis://127.0.0.1:1/3"), Redis.from_url("redis://127.0.0.1:1/4")
    assert live_channel(first) != live_channel(second)
    assert live_channel(first).endswith(":3:live")
