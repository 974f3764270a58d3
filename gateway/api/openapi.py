"""What the OpenAPI description says beyond each handler's own types.

- Every error is an RFC 9457 problem (`application/problem+json`, the `Problem` schema). The statuses every
  operation can answer for the same reason are added in one place (`document_problems`): 400 when it takes
  input, 401 when it needs a caller, 404 when its path names something, 422 when it takes a sort order or a
  report filter. Statuses that depend on what an
  operation does (403, 409, 422, 428, 429, 502, 503) are declared on the handler with `problems(...)`.
- Request bodies are described by msgspec's JSON Schema of their structs (`exact_input_schemas`): every
  constraint the server checks, `additionalProperties: false` for structs that refuse unknown fields.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, get_args

import msgspec

# Litestar's own struct plugin builds the schema; this one only closes it. It is not exported publicly.
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Reference, SecurityScheme
from litestar.routes import HTTPRoute

from gateway.api.problems import PROBLEM_MEDIA_TYPE

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.handlers import HTTPRouteHandler


class FieldProblem(msgspec.Struct, kw_only=True):
    """One input at fault: `key` names the field (or parameter), `source` where it was (body, query, path)."""

    key: str
    message: str
    source: str | msgspec.UnsetType = msgspec.UNSET


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    instance: str
    detail: str | msgspec.UnsetType = msgspec.UNSET
    request_id: str | msgspec.UnsetType = msgspec.UNSET
    # The inputs at fault, for 400 and 422.
    errors: list[FieldProblem] | msgspec.UnsetType = msgspec.UNSET


_MEANING: dict[int, str] = {
    400: "The request is malformed: a parameter or the body does not match its schema (`errors` names each)",
    401: "No valid session cookie or API token (or, for webhooks, no valid signature)",
    403: "The caller can see this but may not do it",
    404: "Nothing with this id, or it is outside the caller's view",
    409: "A clash with the stored state: a name already taken, or a stale version",
    412: "The version named in If-Match is not the current one",
    422: "The request is well-formed but breaks a rule (`errors` names the field)",
    428: "The change must name the version it changes (If-Match or `version`)",
    429: "Too many attempts; `Retry-After` says when to try again",
    502: "The ticket system failed or did not answer",
    503: "A service this needs is unavailable (the connector is not installed, or the directory is down)",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Response specs for the given error statuses, each a problem document."""
    return {
        status: ResponseSpec(
            Problem,
            description=_MEANING.get(status, HTTPStatus(status).phrase),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


# Handler parameters that are injected rather than sent by the client.
_INJECTED = frozenset(
    {
        "caller",
        "db_session",
        "settings",
        "key_ring",
        "registry",
        "runtime",
        "tickets",
        "ticket_search",
        "request",
        "state",
    }
)


# Injected query groups whose values are checked by a rule: a sort field that does not exist, a day range
# turned round.
_CHECKED_QUERIES = frozenset({"page", "filters"})


def _inferred_statuses(handler: HTTPRouteHandler, path: str) -> list[int]:
    parameters = set(handler.parsed_fn_signature.parameters)
    statuses = []
    if parameters - _INJECTED:
        statuses.append(400)
    if "caller" in parameters:
        statuses.append(401)
    if "{" in path:
        statuses.append(404)
    if parameters & _CHECKED_QUERIES:
        statuses.append(422)
    return statuses


# Who a caller is: a personal API token, or the session cookie a browser got from logging in.
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "apiToken": SecurityScheme(type="http", scheme="bearer", description="A personal API token (gwt_…)"),
    "session": SecurityScheme(
        type="apiKey", name="gw_session", security_scheme_in="cookie", description="The cookie set by logging in"
    ),
}
CALLER_SECURITY: list[dict[str, list[str]]] = [{"apiToken": []}, {"session": []}]


def document_problems(app: Litestar) -> None:
    """Add the problem responses every operation shares to each handler's own (which win where both speak), and
    name how its caller authenticates."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            declared = dict(handler.responses or {})
            inferred = problems(*_inferred_statuses(handler, route.path))
            handler.responses = {**inferred, **declared}
            if "caller" in handler.parsed_fn_signature.parameters:
                handler.security = CALLER_SECURITY


def exact_input_schemas(app: Litestar) -> None:
    """Describe every request body with msgspec's own JSON Schema of its struct, and headers as sent.

    Litestar's generator drops constraints msgspec enforces (a `ge=0` minimum, constraints on list items and
    inside unions with `UNSET`), so clients and fuzzers would send what the server then refuses. msgspec's
    schema is exactly what the decoder checks, `additionalProperties: false` included. The description is built
    here, once, and served as built.
    """
    document: dict[str, Any] = app.plugins.get("OpenAPIPlugin").provide_openapi_schema()
    bodies: set[type[msgspec.Struct]] = set()
    for route in app.routes:
        for handler in route.route_handlers if isinstance(route, HTTPRoute) else ():
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                bodies.update(_structs_in(data.annotation))
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "header":
                    parameter["schema"] = _without_null(parameter.get("schema", {}))
    _, components = msgspec.json.schema_components(sorted(bodies, key=lambda t: t.__name__), ref_template=REF_TEMPLATE)
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)


REF_TEMPLATE = "#/components/schemas/{name}"


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional header is absent, never null (Litestar reads `?x=null` as absent, but not a header "null")."""
    choices = [choice for choice in schema.get("oneOf", []) if choice != {"type": "null"}]
    if not choices or len(choices) == len(schema.get("oneOf", [])):
        return schema
    rest = {key: value for key, value in schema.items() if key != "oneOf"}
    return {**choices[0], **rest} if len(choices) == 1 else {**rest, "oneOf": choices}


def _structs_in(annotation: Any) -> list[type[msgspec.Struct]]:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return [annotation]
    return [arg for arg in get_args(annotation) if isinstance(arg, type) and issubclass(arg, msgspec.Struct)]
