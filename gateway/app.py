"""The Litestar application factory: the JSON API and the web UI composed into one app, with its resources."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components
from litestar.plugins.prometheus import PrometheusConfig
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import __version__
from gateway.api.allow import complete_allow_on_options
from gateway.api.api_docs import API_DOCS_ASSETS, api_docs_router
from gateway.api.controllers import API_CONTROLLERS
from gateway.api.cookies import set_pending_cookies
from gateway.api.csrf import CSRFMiddleware
from gateway.api.dependencies import DEPENDENCIES
from gateway.api.health import HealthController
from gateway.api.metrics import MetricsController
from gateway.api.openapi import SECURITY_SCHEMES, document_problems, exact_input_schemas
from gateway.api.problems import EXCEPTION_HANDLERS
from gateway.api.request_context import request_context_middleware
from gateway.api.request_sessions import close_left_sessions_middleware
from gateway.api.security_headers import add_security_headers
from gateway.api.strict_bodies import strict_json_body
from gateway.core.db import create_engine, create_session_factory
from gateway.core.integration_health import share_through
from gateway.core.live import LiveHub, LivePublisher, LocalPublisher, RedisPublisher, relay
from gateway.core.plugins import ConnectorRegistry, build_registry
from gateway.core.replica import ReadRouter
from gateway.core.settings import Settings
from gateway.core.sync.jobs import ArqQueue, InlineQueue, JobQueue, after_commit_handler
from gateway.core.sync.runtime import arq_redis, sync_deps
from gateway.core.tracker_http import tracker_http_client
from gateway.core.webhooks import ConnectorCache
from gateway.web.errors import pages_for_browsers
from gateway.web.routes import WEB_ROUTE_HANDLERS
from gateway.web.templating import template_config

API_DESCRIPTION = """Time entries, master data, reports and the links between users and ticket systems.

Every error is an RFC 9457 problem (`application/problem+json`). Text never contains NUL characters (U+0000):
the database cannot store them, and a request carrying one is refused with 400.
"""

# Calls to trackers: connect quickly or not at all, and never hang a request or a job for long.


def create_app(
    settings: Settings, *, engine: AsyncEngine | None = None, registry: ConnectorRegistry | None = None
) -> Litestar:
    """Build the app for `settings`.

    `engine`: share one the caller owns (it is then not disposed). `registry`: the connector plugins to use;
    by default those installed (the entry points), loaded here, not at import, so tests choose their own.
    """
    owns_engine = engine is None
    app_engine = engine or create_engine(settings.database_url, prepared_statements=settings.db_prepared_statements)
    plugins = registry or build_registry()
    redis = arq_redis(settings.redis_url) if settings.redis_url else None
    share_through(redis)  # what this process's tracker requests saw, for /health/integrations in every process
    http = tracker_http_client()
    session_factory = create_session_factory(app_engine, on_commit=lambda work: on_commit(work))
    deps = sync_deps(settings, session_factory, plugins, http, redis)
    queue: JobQueue = ArqQueue(redis) if redis is not None else InlineQueue(deps, max_tries=settings.job_max_tries)
    # Live updates for open pages: through Redis when there is one (workers publish there too), else in-process.
    hub = LiveHub()
    publisher: LivePublisher = RedisPublisher(redis) if redis is not None else LocalPublisher(hub)
    on_commit = after_commit_handler(plugins, queue, publisher)
    # Reports and exports read from the replica (DATABASE_REPLICA_URL) when it is there and close enough.
    reads = ReadRouter(
        session_factory,
        settings.replica_url,
        max_lag_seconds=settings.replica_max_lag_seconds,
        redis=redis,
        prepared_statements=settings.db_prepared_statements,
    )

    @asynccontextmanager
    async def resources(_app: Litestar) -> AsyncIterator[None]:
        if isinstance(queue, InlineQueue):
            queue.start()  # without Redis, this process runs the jobs and their schedule itself
        relaying = asyncio.get_running_loop().create_task(relay(redis, hub)) if redis is not None else None
        try:
            yield
        finally:
            if relaying is not None:
                relaying.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relaying
            if isinstance(queue, InlineQueue):
                await queue.close()
            await http.aclose()
            await reads.dispose()
            if redis is not None:
                await redis.aclose()
            if owns_engine:
                await app_engine.dispose()

    metrics = PrometheusConfig(
        app_name="timetracker_gateway",
        prefix="gateway",
        group_path=True,
        exclude=["/metrics"],
    )
    app = Litestar(
        route_handlers=[HealthController, MetricsController, api_docs_router(), *API_CONTROLLERS, *WEB_ROUTE_HANDLERS],
        dependencies=DEPENDENCIES,
        before_send=[set_pending_cookies, add_security_headers],
        before_request=strict_json_body,
        state=State(
            {
                "settings": settings,
                "engine": app_engine,
                "session_factory": session_factory,
                "queue": queue,
                "redis": redis,
                "registry": plugins,
                "http": http,
                "coordinator": deps.coordinator,
                "sync_deps": deps,
                "live_hub": hub,
                "reads": reads,
                "webhook_connectors": ConnectorCache(),
            }
        ),
        lifespan=[resources],
        middleware=[metrics.middleware, CSRFMiddleware()],
        # The same errors, as problem details for the API and as pages for a browser.
        exception_handlers=pages_for_browsers(EXCEPTION_HANDLERS),
        template_config=template_config(),
        openapi_config=OpenAPIConfig(
            title="TimeTracker Gateway",
            version=__version__,
            description=API_DESCRIPTION,
            components=Components(security_schemes=SECURITY_SCHEMES),
            path="/schema",
            render_plugins=[
                # Served from this process (the swagger-ui-py distribution's files), so it works offline.
                SwaggerRenderPlugin(
                    path="/",
                    js_url=f"{API_DOCS_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{API_DOCS_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{API_DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/png' href='{API_DOCS_ASSETS}/favicon-32x32.png'>",
                ),
                JsonRenderPlugin(path="/openapi.json"),
            ],
        ),
        logging_config=None,
    )
    document_problems(app)
    exact_input_schemas(app)
    # Route middleware never sees unmatched paths; wrapping the app's handler gives 404s and 405s a request id
    # and a log line too.
    app.asgi_handler = request_context_middleware(
        close_left_sessions_middleware(complete_allow_on_options(app, app.asgi_handler))
    )
    return app
