"""The live-update stream: server-sent events with the changes of the caller's entries and links.

A page opens `GET /live` with `EventSource`; the browser reconnects by itself after a dropped connection (the
`retry` below), and the page then reads its current state again, so nothing missed while disconnected stays
missed. A comment line every few seconds keeps proxies from closing an idle stream and tells the server
soon when the browser has gone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import msgspec
from litestar import get
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage

from gateway.api.dependencies import CurrentCaller
from gateway.core.live import EntryEvent, LiveEvent, LiveHub, Resync, own_changes

KEEP_ALIVE_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2000


async def _messages(hub: LiveHub, wants: Callable[[LiveEvent], bool]) -> AsyncIterator[ServerSentEventMessage]:
    with hub.subscribe(wants) as stream:
        yield ServerSentEventMessage(event="ready", data="{}", retry=RECONNECT_MILLISECONDS)
        while True:
            item: LiveEvent | Resync | None = await stream.next(KEEP_ALIVE_SECONDS)
            if item is None:
                yield ServerSentEventMessage(comment="keep-alive", data=None)
            elif isinstance(item, Resync):
                yield ServerSentEventMessage(event="resync", data="{}")
            else:
                kind = "entry" if isinstance(item, EntryEvent) else "link"
                yield ServerSentEventMessage(event=kind, data=msgspec.json.encode(item).decode())


def _everything(_event: LiveEvent) -> bool:
    return True


@get("/live", include_in_schema=False)
async def live(caller: CurrentCaller, state: State, follow: FromQuery[str | None] = None) -> ServerSentEvent:
    """`follow=all`: an ADMIN's overview pages follow every user's entries and links; everyone else (and every
    other page) gets their own changes only."""
    hub: LiveHub = state.live_hub
    wants = _everything if follow == "all" and caller.is_admin else own_changes(caller.user_id)
    return ServerSentEvent(_messages(hub, wants), headers={"Cache-Control": "no-store"})
