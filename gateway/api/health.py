"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.core.db import ping
from gateway.core.errors import GatewayError, reason_of
from gateway.core.migrator import ensure_schema_at_head
from gateway.core.plugins import ConnectorRegistry

CHECK_TIMEOUT_SECONDS = 3.0


class Check(msgspec.Struct, omit_defaults=True):
    status: str
    detail: str | None = None


class Health(msgspec.Struct):
    status: str
    checks: dict[str, Check] = msgspec.field(default_factory=dict)


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up")
    async def live(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        summary="The database (and Redis, when configured) answer",
        responses={503: ResponseSpec(Health, description="A dependency does not answer; `checks` says which")},
    )
    async def ready(self, state: State) -> Response[Health]:
        checks = {"database": await _check_database(state)}
        redis: Redis | None = state.redis
        checks["redis"] = await _check_redis(redis) if redis is not None else Check(status="not configured")
        checks["plugins"] = _check_plugins(state.registry)
        # A broken plugin leaves the others working: it degrades readiness, it does not fail it.
        healthy = all(check.status in ("ok", "not configured", "degraded") for check in checks.values())
        return Response(Health(status="ok" if healthy else "fail", checks=checks), status_code=200 if healthy else 503)


async def _check_database(state: State) -> Check:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await ping(state.engine)
            await ensure_schema_at_head(state.engine)
    except TimeoutError:
        return Check(status="fail", detail=f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except GatewayError as exc:
        return Check(status="fail", detail=str(exc))
    return Check(status="ok")


def _check_plugins(registry: ConnectorRegistry) -> Check:
    if not registry.problems:
        return Check(status="ok", detail=f"connectors: {', '.join(sorted(registry.connectors)) or 'none'}")
    problems = "; ".join(f"{p.plugin}: {p.problem}" for p in registry.problems)
    return Check(status="degraded", detail=problems)


async def _check_redis(redis: Redis) -> Check:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await redis.ping()
    except TimeoutError:
        return Check(status="fail", detail=f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except (RedisError, OSError) as exc:
        return Check(status="fail", detail=f"cannot reach Redis: {reason_of(exc)}")
    return Check(status="ok")
