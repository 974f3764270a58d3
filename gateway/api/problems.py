"""One place that turns every exception into RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DataError, IntegrityError

from gateway.core.crud import conflict_for
from gateway.core.errors import (
    AuthenticationFailed,
    Conflict,
    DatabaseUnavailable,
    DirectoryUnavailable,
    GatewayError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionRequired,
    SchemaOutOfDate,
    TooManyAttempts,
    TrackerRefused,
    TrackerUnavailable,
    reason_of,
)
from gateway.core.logs import get_logger
from gateway.core.master_data.types import PATTERN_HINTS
from gateway.core.plugins import ConnectorMissing

PROBLEM_MEDIA_TYPE = "application/problem+json"
# msgspec says where: "… - at `$.day`", or for a mapping's key "… - at `key` in `$.secrets`".
_AT_PATH = re.compile(r" - at (?:`key` in )?`\$\.([^`]+)`$")
_REGEX_FAILURE = re.compile(r"Expected `str` matching regex '(.*)'$")
log = get_logger("gateway.api")

_STATUS_OF: list[tuple[type[GatewayError], HTTPStatus]] = [
    (AuthenticationFailed, HTTPStatus.UNAUTHORIZED),
    (PermissionDenied, HTTPStatus.FORBIDDEN),
    (TooManyAttempts, HTTPStatus.TOO_MANY_REQUESTS),
    (PreconditionRequired, HTTPStatus.PRECONDITION_REQUIRED),
    (DirectoryUnavailable, HTTPStatus.SERVICE_UNAVAILABLE),
    (InvalidInput, HTTPStatus.UNPROCESSABLE_ENTITY),
    (TrackerRefused, HTTPStatus.UNPROCESSABLE_ENTITY),
    (TrackerUnavailable, HTTPStatus.BAD_GATEWAY),
    (NotFound, HTTPStatus.NOT_FOUND),
    (Conflict, HTTPStatus.CONFLICT),
    (DatabaseUnavailable, HTTPStatus.SERVICE_UNAVAILABLE),
    (ConnectorMissing, HTTPStatus.SERVICE_UNAVAILABLE),
    (SchemaOutOfDate, HTTPStatus.SERVICE_UNAVAILABLE),
]


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": int(status),
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ValidationException):
        errors = [_field_error(error) for error in exc.extra] if isinstance(exc.extra, list) else []
        # Without field errors Litestar's own message is the only explanation (e.g. a missing query parameter).
        specific = not errors and exc.detail != HTTPStatus(exc.status_code).phrase
        message = exc.detail if specific and exc.detail else "the request is not valid"
        return problem(request, exc.status_code, message, errors=errors)
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    return problem(request, exc.status_code, detail, headers=exc.headers)


def _field_error(error: Any) -> Any:
    """Name the field itself: msgspec says where in its message ("… - at `$.day`"), Litestar only "data"."""
    if not isinstance(error, dict):
        return error
    message = str(error.get("message", ""))
    found = _AT_PATH.search(message)
    if found:
        return {**error, "key": found.group(1), "message": _readable(message[: found.start()])}
    return {**error, "message": _readable(message)}


def _readable(message: str) -> str:
    """msgspec quotes the regular expression a value failed; say what to send instead where we know it."""
    found = _REGEX_FAILURE.search(message)
    if found is None:
        return message
    pattern = found.group(1).replace("\\\\", "\\")
    return PATTERN_HINTS.get(pattern, "does not have the expected format")


def _gateway_error(request: Request[Any, Any, Any], exc: GatewayError) -> Response[dict[str, Any]]:
    status = next((code for kind, code in _STATUS_OF if isinstance(exc, kind)), HTTPStatus.INTERNAL_SERVER_ERROR)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        log.error("request failed", error=str(exc), error_type=type(exc).__name__)
    extensions: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput | Conflict) and exc.field:
        extensions["errors"] = [{"key": exc.field, "message": str(exc)}]
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="timetracker-gateway"'
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    return problem(request, status, str(exc), headers=headers or None, **extensions)


def _data_error(request: Request[Any, Any, Any], exc: DataError) -> Response[dict[str, Any]]:
    # A value the database cannot hold (PostgreSQL text cannot contain NUL characters); nothing was stored.
    log.info("request refused by the database", error=reason_of(exc))
    return problem(request, HTTPStatus.BAD_REQUEST, f"a value cannot be stored: {reason_of(exc)}")


def _integrity_error(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[dict[str, Any]]:
    # Services check what they can before writing; a unique key taken meanwhile (or missed) is still a 409.
    conflict = conflict_for(exc)
    if conflict is None:
        return _unexpected(request, exc)
    return _gateway_error(request, conflict)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # The message of an unexpected exception may carry anything; it goes to the log, not to the caller.
    log.exception("unhandled error", error_type=type(exc).__name__)
    return problem(request, HTTPStatus.INTERNAL_SERVER_ERROR, "an unexpected error occurred")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: _http_exception,
    GatewayError: _gateway_error,
    IntegrityError: _integrity_error,
    DataError: _data_error,
    Exception: _unexpected,
}
