"""Live updates: committed changes of entries and links, announced to the browser pages that show them.

After a transaction commits, its process publishes what changed (`EntryEvent`, `LinkEvent`; collected by
`commit_events`). With Redis, events go through one pub/sub channel, so a change committed by a worker reaches the
pages connected to any API process; without Redis they go to this process's `LiveHub` directly. The hub hands each
event to the open streams that want it (a user's own changes).

Events are hints, not a log: a stream that may have missed some (its reader fell behind, the Redis subscription
was re-established) receives `RESYNC`, and a page that reconnects reads the current state again. Nothing here
is the truth; the database is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Final, Protocol

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.core.enums import SyncState
from gateway.core.errors import reason_of
from gateway.core.logs import get_logger

log = get_logger("gateway.live")

# A stream holds at most this many undelivered events; a reader that falls further behind is told to resync.
STREAM_BACKLOG = 256
RELAY_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


class EntryEvent(msgspec.Struct, tag="entry", frozen=True, kw_only=True):
    """An entry was created, changed, deleted or synced: its state after the commit."""

    user_id: int
    entry_id: int
    day: date
    version: int
    sync_state: SyncState | None
    sync_error: str | None
    deleted: bool


class LinkEvent(msgspec.Struct, tag="link", frozen=True, kw_only=True):
    """A user's link to a ticket system changed: connected, disconnected, a sync started or finished."""

    user_id: int
    ticket_system_id: int


LiveEvent = EntryEvent | LinkEvent


class Resync(msgspec.Struct, tag="resync", frozen=True):
    """Events may have been missed: read the current state again."""


RESYNC: Final = Resync()
_EVENTS = msgspec.json.Decoder(list[LiveEvent])


def encode_events(events: Iterable[LiveEvent]) -> bytes:
    return msgspec.json.encode(list(events))


def decode_events(payload: bytes) -> list[LiveEvent]:
    return _EVENTS.decode(payload)


# --- Fan-out inside one process ---------------------------------------------------------------------------------


class LiveStream:
    """What one open page receives: the events it wants, in order, or `RESYNC` after it fell behind."""

    def __init__(self, wants: Callable[[LiveEvent], bool]) -> None:
        self.wants = wants
        self._queue: asyncio.Queue[LiveEvent | Resync] = asyncio.Queue(STREAM_BACKLOG)

    def offer(self, item: LiveEvent | Resync) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # Too far behind to catch up event by event: drop the backlog and have the page read everything anew.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RESYNC)

    async def next(self, within: float) -> LiveEvent | Resync | None:
        """The next item, or None when nothing came `within` seconds (time for a keep-alive)."""
        try:
            return await asyncio.wait_for(self._queue.get(), within)
        except TimeoutError:
            return None


class LiveHub:
    """The open streams of this process."""

    def __init__(self) -> None:
        self._streams: set[LiveStream] = set()

    def deliver(self, events: Iterable[LiveEvent]) -> None:
        for event in events:
            for stream in list(self._streams):
                if stream.wants(event):
                    stream.offer(event)

    def resync_all(self) -> None:
        for stream in list(self._streams):
            stream.offer(RESYNC)

    @contextlib.contextmanager
    def subscribe(self, wants: Callable[[LiveEvent], bool]) -> Iterator[LiveStream]:
        stream = LiveStream(wants)
        self._streams.add(stream)
        try:
            yield stream
        finally:
            self._streams.discard(stream)

    @property
    def stream_count(self) -> int:
        return len(self._streams)


def own_changes(user_id: int) -> Callable[[LiveEvent], bool]:
    """A user's page wants the changes of their own entries and links."""
    return lambda event: event.user_id == user_id


# --- Publishing -------------------------------------------------------------------------------------------------


class LivePublisher(Protocol):
    def publish_soon(self, events: list[LiveEvent]) -> None:
        """Announce committed changes; called from synchronous after-commit code inside the event loop."""


class LocalPublisher:
    """Without Redis: straight to this process's hub (the API process runs the sync jobs itself then)."""

    def __init__(self, hub: LiveHub) -> None:
        self.hub = hub

    def publish_soon(self, events: list[LiveEvent]) -> None:
        self.hub.deliver(events)


class RedisPublisher:
    """With Redis: to the channel every API process listens on. A lost message is logged; pages catch up when
    they reconnect or their relay resubscribes."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.channel = live_channel(redis)
        self._sending: set[asyncio.Task[None]] = set()

    def publish_soon(self, events: list[LiveEvent]) -> None:
        if not events:
            return
        task = asyncio.get_running_loop().create_task(self._publish(encode_events(events)))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _publish(self, payload: bytes) -> None:
        try:
            await self.redis.publish(self.channel, payload)
        except (RedisError, OSError) as exc:
            log.warning("could not publish a live update", error=reason_of(exc))


def live_channel(redis: Redis) -> str:
    """The channel of this Redis database: pub/sub spans all databases of a server, deployments do not."""
    database = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"timetracker-gateway:{database}:live"


async def relay(redis: Redis, hub: LiveHub) -> None:
    """Forward the channel's events to `hub` until cancelled, resubscribing after Redis failures.

    Each (re)subscription tells every open stream to resync: whatever was published while this process was not
    listening is lost to it.
    """
    channel = live_channel(redis)
    failures = 0
    while True:
        try:
            async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(channel)
                if failures:
                    log.info("live updates resumed", channel=channel)
                failures = 0
                hub.resync_all()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        hub.deliver(_decoded(message["data"]))
        except (RedisError, OSError) as exc:
            delay = RELAY_RETRY_SECONDS[min(failures, len(RELAY_RETRY_SECONDS) - 1)]
            if failures == 0:
                log.warning("live updates interrupted; resubscribing", error=reason_of(exc))
            failures += 1
            await asyncio.sleep(delay)


def _decoded(data: bytes) -> list[LiveEvent]:
    try:
        return decode_events(data)
    except msgspec.DecodeError:
        log.warning("ignored a malformed live update")
        return []
