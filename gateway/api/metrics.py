"""`GET /metrics`: the HTTP metrics of the framework and the domain's metrics (`gateway.core.metrics`)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State

from gateway.core import metrics


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False

    @get()
    async def metrics(self, state: State) -> Response[bytes]:
        async with state.session_factory() as session:
            states = await metrics.state_metrics(session, state.redis)
        body = metrics.exposition(states, state.settings.metrics_dir)
        return Response(body, media_type=metrics.CONTENT_TYPE)
