"""Integration health: per ticket system, whether its tracker answered recently — from what the gateway's own
requests saw, never by asking the tracker when a probe comes.

Every answer a tracker gives to a gateway request (sync, ticket search, token refresh, reading changed tickets)
passes the tracker clients' httpx hook (`gateway.core.metrics`), which notes it here by ticket system: the time of
the last good answer and of the last failure (a 5xx or 429). With Redis the notes are shared by every process
(workers make most of the requests, API processes answer the probes), at most once per `SHARE_EVERY_SECONDS` per
system and process unless the state changes; without Redis the one process does all requests and keeps them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from gateway.core.logs import get_logger

log = get_logger("gateway.integration_health")

RECENT = timedelta(minutes=15)
SHARE_EVERY_SECONDS = 10.0
KEY = "gateway:integration:{system_id}"


@dataclass(slots=True)
class Outcomes:
    answered_at: datetime | None = None
    failed_at: datetime | None = None
    failed_status: int | None = None

    def status(self, now: datetime) -> str:
        """`ok` (answered recently, no failure since), `failing` (its last recent answer was a failure), or
        `unknown` (no request recently: nothing to say)."""
        recent_answer = self.answered_at is not None and now - self.answered_at <= RECENT
        recent_failure = self.failed_at is not None and now - self.failed_at <= RECENT
        if recent_failure and (self.answered_at is None or self.failed_at >= self.answered_at):  # type: ignore[operator]
            return "failing"
        return "ok" if recent_answer else "unknown"


class _Recorder:
    def __init__(self) -> None:
        self.redis: Redis | None = None
        self.local: dict[int, Outcomes] = {}
        self._shared: dict[int, tuple[float, str]] = {}  # system -> (when shared, state shared)
        self._sending: set[asyncio.Task[Any]] = set()

    def note(self, system_id: int, status_code: int) -> None:
        now = datetime.now(UTC)
        outcomes = self.local.setdefault(system_id, Outcomes())
        if status_code >= 500 or status_code == 429:
            outcomes.failed_at, outcomes.failed_status = now, status_code
            state = "failing"
        else:
            outcomes.answered_at = now
            state = "ok"
        if self.redis is None:
            return
        last = self._shared.get(system_id)
        if last is not None and last[1] == state and time.monotonic() - last[0] < SHARE_EVERY_SECONDS:
            return
        self._shared[system_id] = (time.monotonic(), state)
        try:
            task = asyncio.get_running_loop().create_task(self._share(system_id, outcomes))
        except RuntimeError:
            return
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _share(self, system_id: int, outcomes: Outcomes) -> None:
        assert self.redis is not None
        fields = {
            name: value.isoformat()
            for name, value in (("answered_at", outcomes.answered_at), ("failed_at", outcomes.failed_at))
            if value is not None
        }
        if outcomes.failed_status is not None:
            fields["failed_status"] = str(outcomes.failed_status)
        try:
            key = KEY.format(system_id=system_id)
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping=fields)
                pipe.expire(key, int(RECENT.total_seconds() * 4))
                await pipe.execute()
        except Exception as exc:  # Redis down: this process still knows
            log.warning("integration health not shared through Redis", error=type(exc).__name__)


_RECORDER = _Recorder()


def share_through(redis: Redis | None) -> None:
    """Share this process's notes through Redis, or not (called where a process builds its Redis client)."""
    _RECORDER.redis = redis


def note_answer(system_id: int, status_code: int) -> None:
    _RECORDER.note(system_id, status_code)


async def outcomes_of(system_ids: list[int], redis: Redis | None) -> dict[int, Outcomes]:
    """The latest notes of each system: this process's, merged with the shared ones."""
    found = {system_id: _copy(_RECORDER.local.get(system_id)) for system_id in system_ids}
    if redis is None or not system_ids:
        return found
    async with redis.pipeline(transaction=False) as pipe:
        for system_id in system_ids:
            pipe.hgetall(KEY.format(system_id=system_id))
        shared = await pipe.execute()
    for system_id, fields in zip(system_ids, shared, strict=True):
        _merge(found[system_id], {_text(k): _text(v) for k, v in fields.items()})
    return found


def _copy(outcomes: Outcomes | None) -> Outcomes:
    return (
        Outcomes() if outcomes is None else Outcomes(outcomes.answered_at, outcomes.failed_at, outcomes.failed_status)
    )


def _merge(outcomes: Outcomes, fields: dict[str, str]) -> None:
    answered = _time(fields.get("answered_at"))
    if answered is not None and (outcomes.answered_at is None or answered > outcomes.answered_at):
        outcomes.answered_at = answered
    failed = _time(fields.get("failed_at"))
    if failed is not None and (outcomes.failed_at is None or failed > outcomes.failed_at):
        outcomes.failed_at = failed
        status = fields.get("failed_status")
        outcomes.failed_status = int(status) if status and status.isdigit() else None


def _time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
