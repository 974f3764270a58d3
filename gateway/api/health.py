"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from gateway.core.db import ping
from gateway.core.errors import GatewayError, reason_of
from gateway.core.integration_health import RECENT, outcomes_of
from gateway.core.migrator import ensure_schema_at_head
from gateway.core.models import TicketSystem
from gateway.core.plugins import ConnectorRegistry
from gateway.core.replica import ReadRouter

CHECK_TIMEOUT_SECONDS = 3.0


class Check(msgspec.Struct, omit_defaults=True):
    status: str
    detail: str | None = None


class Health(msgspec.Struct):
    status: str
    checks: dict[str, Check] = msgspec.field(default_factory=dict)


class IntegrationOut(msgspec.Struct, kw_only=True):
    ticket_system_id: int
    connector: str
    status: str
    last_answer_at: datetime | None
    last_failure_at: datetime | None
    last_failure_status: int | None


class IntegrationsOut(msgspec.Struct, kw_only=True):
    status: str
    recent_seconds: int
    ticket_systems: list[IntegrationOut]


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
        checks["replica"] = await _check_replica(state.reads)
        # A broken plugin leaves the others working, and reports go to the primary without the replica: they degrade
        # readiness, they do not fail it.
        healthy = all(check.status in ("ok", "not configured", "degraded") for check in checks.values())
        return Response(Health(status="ok" if healthy else "fail", checks=checks), status_code=200 if healthy else 503)

    @get(
        "/integrations",
        summary="Per ticket system: did its tracker answer the gateway's requests recently",
        description=(
            "Read from the outcomes of the gateway's own requests to each tracker (sync, ticket search, token "
            "refresh); the trackers are not asked by this probe. `ok`: an answer in the last `recent_seconds` and "
            "no failure (5xx, 429) since; `failing`: the last recent answer was a failure; `unknown`: no request "
            "recently. The overall status is `degraded` when any system is failing; the answer is always 200."
        ),
    )
    async def integrations(self, state: State) -> IntegrationsOut:
        now = datetime.now(UTC)
        async with state.session_factory() as session:
            systems = (
                await session.execute(
                    select(TicketSystem.id, TicketSystem.type)
                    .where(TicketSystem.enabled.is_(True), TicketSystem.deleted_at.is_(None))
                    .order_by(TicketSystem.id)
                )
            ).all()
        try:
            outcomes = await outcomes_of([system_id for system_id, _ in systems], state.redis)
        except (RedisError, OSError):
            outcomes = await outcomes_of([system_id for system_id, _ in systems], None)
        rows = [
            IntegrationOut(
                ticket_system_id=system_id,
                connector=connector,
                status=outcomes[system_id].status(now),
                last_answer_at=outcomes[system_id].answered_at,
                last_failure_at=outcomes[system_id].failed_at,
                last_failure_status=outcomes[system_id].failed_status,
            )
            for system_id, connector in systems
        ]
        overall = "degraded" if any(row.status == "failing" for row in rows) else "ok"
        return IntegrationsOut(status=overall, recent_seconds=int(RECENT.total_seconds()), ticket_systems=rows)


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


async def _check_replica(reads: ReadRouter) -> Check:
    if reads.replica is None:
        return Check(status="not configured")
    state = await reads.state()
    if state.usable:
        return Check(status="ok", detail=f"{state.lag_seconds or 0:.0f} s behind")
    return Check(status="degraded", detail=f"reports read from the primary: {state.detail}")


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
