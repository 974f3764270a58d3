"""Structured logging: structlog in front of the standard library, JSON when not on a terminal.

Every record passes `redact_secrets`, so a value logged under a key that names a secret (password, token,
secret, key, authorization, cookie) is masked even if a caller forgets.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.core.settings import LogFormat

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api_?key|authorization|cookie|credential", re.IGNORECASE)
REDACTED = "***"


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    for key in list(event_dict):
        if key != "event" and _SECRET_KEY.search(key) and event_dict[key] is not None:
            event_dict[key] = REDACTED
    return event_dict


def configure_logging(level: str = "INFO", log_format: LogFormat = "auto", stream: TextIO | None = None) -> None:
    """Route structlog and standard-library logs (uvicorn, SQLAlchemy, arq) through one renderer."""
    stream = stream or sys.stderr
    use_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(
            colors=stream.isatty(),
            # Plain tracebacks: rich ones highlight every frame's source, which stalls the event loop for seconds,
            # and they never show local variables (where a secret could sit).
            exception_formatter=structlog.dev.plain_traceback,
        )
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # The console renderer formats exceptions itself, with colour; JSON needs them as a string.
            *([structlog.processors.format_exc_info] if use_json else []),
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The gateway logs each request itself, with its request id; uvicorn's access log would repeat it.
    logging.getLogger("uvicorn.access").disabled = True
    # Alembic announces its context on every revision check (each readiness probe).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # At DEBUG, SQLAlchemy would log every statement with its parameters: password and token hashes, secrets.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "arq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
