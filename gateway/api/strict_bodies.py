"""JSON bodies are read strictly: `0` is not a boolean and `"5"` is not a number (but `5.0` is the integer 5).

Litestar converts request bodies leniently (msgspec's `strict=False`, meant for query strings), so a body that
breaks its schema could be accepted. This hook decodes a JSON body against the handler's `data` type with the
strict rules first, and refuses it with the same problem (400, the field named) as any other invalid body.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler

# The JSON type of each handler's body, found once per handler (None: it takes no JSON body).
_BODY_TYPES: dict[HTTPRouteHandler, Any] = {}


def _body_type(handler: HTTPRouteHandler) -> Any:
    if handler not in _BODY_TYPES:
        data = handler.parsed_fn_signature.parameters.get("data")
        media_type = getattr(data.kwarg_definition, "media_type", None) if data is not None else None
        json_body = data is not None and getattr(media_type, "value", media_type) in (None, "application/json")
        _BODY_TYPES[handler] = data.annotation if json_body and data is not None else None
    return _BODY_TYPES[handler]


def _integral_floats_as_ints(value: Any) -> Any:
    """JSON does not tell 3 from 3.0 (JSON Schema calls both integers), so neither does this check."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    handler = request.route_handler
    if not isinstance(handler, HTTPRouteHandler):
        return
    body_type = _body_type(handler)
    if body_type is None:
        return
    body = await request.body()
    if not body.strip():
        return  # an absent body is the handler's own business (a default, or Litestar's "required" error)
    try:
        msgspec.convert(_integral_floats_as_ints(msgspec.json.decode(body)), body_type, strict=True)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValidationException(
            "the request is not valid", extra=[{"message": str(exc), "key": "data", "source": "body"}]
        ) from None
