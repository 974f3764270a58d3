"""Putting a process's sync machinery together from its settings: the same for the API and the workers."""

from __future__ import annotations

import httpx
from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.core.links import ConnectorRuntime
from gateway.core.plugins import ConnectorRegistry
from gateway.core.settings import Settings
from gateway.core.sync.context import SyncDeps
from gateway.core.sync.coordination import Coordinator, LocalCoordinator, RedisCoordinator
from gateway.core.sync.serialization import deserialize_job, serialize_job

# Jobs carry no callback URL; where one is needed (OAuth) the API builds it from the request.
NO_PUBLIC_URL = "http://127.0.0.1"


def arq_redis(redis_url: str) -> ArqRedis:
    """An arq client that connects on first use, so a process starts even while Redis is down."""
    return ArqRedis(
        connection_pool=ConnectionPool.from_url(redis_url),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )


def sync_deps(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    registry: ConnectorRegistry,
    http: httpx.AsyncClient,
    redis: ArqRedis | None,
) -> SyncDeps:
    coordinator: Coordinator = (
        RedisCoordinator(
            redis, settings.tracker_requests_per_second, lock_seconds=min(60, settings.job_timeout_seconds)
        )
        if redis is not None
        else LocalCoordinator(settings.tracker_requests_per_second)
    )
    return SyncDeps(
        session_factory=session_factory,
        runtime=ConnectorRuntime(
            registry=registry,
            key_ring=settings.require_key_ring(),
            http=http,
            public_url=settings.public_url or NO_PUBLIC_URL,
        ),
        coordinator=coordinator,
    )
