from __future__ import annotations

import io
import json
import logging

import structlog

from gateway.core.logs import REDACTED, configure_logging, get_logger


def test_json_logs_carry_context_and_mask_secret_fields() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        with structlog.contextvars.bound_contextvars(request_id="req-1"):
            get_logger("test").info(
                "linked", user="ada", access_token="tok-123", password="hunter2", client_secret="s3"
            )
        logging.getLogger("plain.stdlib").warning("from the standard library")
    finally:
        logging.getLogger().handlers.clear()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["event"] == "linked"
    assert first["request_id"] == "req-1"
    assert first["user"] == "ada"
    assert first["access_token"] == first["password"] == first["client_secret"] == REDACTED
    assert "tok-123" not in stream.getvalue()
    assert "hunter2" not in stream.getvalue()
    assert second["event"] == "from the standard library"
    assert second["level"] == "warning"


def test_debug_is_dropped_at_info_level() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        get_logger("test").debug("noise")
    finally:
        logging.getLogger().handlers.clear()
    assert stream.getvalue() == ""
