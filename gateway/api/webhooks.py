"""Webhook ingress: trackers announce ticket and worklog changes here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.params import RawBody

from gateway.api.dependencies import STATEMENTS_ON_THEIR_OWN, Connectors, DbSession
from gateway.api.openapi import problems
from gateway.api.parameters import RowId
from gateway.core.webhooks import receive_webhook

MAX_WEBHOOK_BYTES = 1024 * 1024


class WebhookOut(msgspec.Struct, kw_only=True):
    status: str
    events: int


class WebhookController(Controller):
    path = "/api/webhooks"
    tags = ["webhooks"]

    @post(
        "/{system_id:int}",
        summary="Receive a tracker's webhook: verified against the system's secret, de-duplicated by delivery id",
        status_code=202,
        request_max_body_size=MAX_WEBHOOK_BYTES,
        responses=problems(401, 413, 422, 503),
        opt=STATEMENTS_ON_THEIR_OWN,
    )
    async def receive(
        self,
        request: Request[Any, Any, Any],
        state: State,
        db_session: DbSession,
        runtime: Connectors,
        system_id: RowId,
        body: RawBody,
    ) -> WebhookOut:
        outcome = await receive_webhook(
            db_session,
            system_id,
            request.headers,
            body,
            runtime,
            connectors=state.webhook_connectors,
            queue=state.queue,
            now=datetime.now(UTC),
        )
        return WebhookOut(status="duplicate" if outcome.duplicate else "accepted", events=outcome.events)
