"""What the OpenAPI description says beyond each handler's own types.

- Every error is an RFC 9457 problem (`application/problem+json`, the `Problem` schema). The statuses every
  operation can answer for the same reason are added in one place (`document_problems`): 400 when it takes
  input, 401 when it needs a caller, 404 when its path names something, 422 when it takes a sort order or a
  report filter. Statuses that depend on what an
  operation does (403, 409, 422, 428, 429, 502, 503) are declared on the handler with `problems(...)`.
- Request bodies that refuse unknown fields (`forbid_unknown_fields=True`) say so (`additionalProperties:
  false`), so generated clients and fuzzers know what the server accepts.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

import msgspec

# Litestar's own struct plugin builds the schema; this one only closes it. It is not exported publicly.
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi import ResponseSpec
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute

from gateway.api.problems import PROBLEM_MEDIA_TYPE

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.handlers import HTTPRouteHandler
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


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
    {"caller", "db_session", "settings", "key_ring", "registry", "runtime", "tickets", "request", "state"}
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


def document_problems(app: Litestar) -> None:
    """Add the problem responses every operation shares to each handler's own (which win where both speak)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            declared = dict(handler.responses or {})
            inferred = problems(*_inferred_statuses(handler, route.path))
            handler.responses = {**inferred, **declared}


class ClosedStructSchemaPlugin(OpenAPISchemaPlugin):
    """Structs that refuse unknown fields get `additionalProperties: false` in their schema."""

    _structs = StructSchemaPlugin()

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return self._structs.is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = self._structs.to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
