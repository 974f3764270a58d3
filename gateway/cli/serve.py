"""`gateway serve`: the HTTP API."""

from __future__ import annotations

import click
import uvicorn

from gateway.api.app import create_app
from gateway.cli._runtime import check_database, settings_with_logging

GRACEFUL_SHUTDOWN_SECONDS = 5


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Serve the API (with /health/live, /health/ready, /metrics and /schema)."""
    settings = settings_with_logging()
    settings.require_key_ring()
    check_database(settings)
    click.echo(f"serving on http://{host}:{port}", err=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        server_header=False,
        # Open live-update streams never finish on their own; browsers reconnect to the next process.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
