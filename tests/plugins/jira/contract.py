"""Atlassian's published OpenAPI description of Jira Cloud REST v3, as a check on the fake Jira.

Every request the fake receives on a REST path and every answer it gives are validated against the spec
(`spec/jira-cloud-platform-rest-v3.openapi.json`, through openapi-core). Data Center's v2 paths are
checked against their v3 twins: the shapes the gateway uses are the same, except that v2 comments are strings,
which the spec's untyped `comment` allows. Two documented deviations of real Jira are modelled: date-times carry
milliseconds and an offset without a colon (`2026-11-27T09:00:00.000+0100`), which is the only date-time form
accepted; `/search/jql` is newer than the spec's snapshot and is not checked.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathNotFound
from openapi_core.testing import MockRequest, MockResponse

SPEC = Path(__file__).with_name("spec") / "jira-cloud-platform-rest-v3.openapi.json"
SERVER = "https://your-domain.atlassian.net"
JIRA_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
UNCHECKED = ("/rest/api/3/search/jql",)


class ContractViolation(Exception):
    """A request or answer that does not match Atlassian's description."""


@cache
def spec() -> OpenAPI:
    if not SPEC.exists():
        raise RuntimeError(f"the Jira OpenAPI description is missing at {SPEC}")
    formats = {"date-time": lambda value: isinstance(value, str) and bool(JIRA_DATETIME.match(value))}
    return OpenAPI.from_file_path(str(SPEC), config=Config(extra_format_validators=formats))


def v3_path(path: str) -> str | None:
    """The spec's path for a REST path of the fake (v2 mapped to v3, the OAuth gateway prefix dropped)."""
    found = re.search(r"/rest/api/[23](/.*)$", path)
    if found is None:
        return None
    checked = "/rest/api/3" + found.group(1)
    return None if checked in UNCHECKED else checked


def _request(method: str, path: str, query: dict[str, Any], body: bytes | None, content_type: str) -> MockRequest:
    return MockRequest(SERVER, method.lower(), path, args=query, data=body or None, content_type=content_type)


def check_request(method: str, path: str, query: dict[str, Any], body: bytes | None, content_type: str) -> None:
    """Raise `ContractViolation` naming what is wrong with a request's parameters or body."""
    checked = v3_path(path)
    if checked is None:
        return
    try:
        with warnings.catch_warnings():
            # openapi-core cannot check OAuth 2 security schemes and says so on every request; auth is the fake's job.
            warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
            spec().validate_request(_request(method, checked, query, body, content_type))
    except PathNotFound:
        raise ContractViolation(f"{method} {checked} is not in the Jira API") from None
    except Exception as exc:  # openapi-core raises a family of validation errors
        raise ContractViolation(_describe(exc)) from None


def check_response(method: str, path: str, query: dict[str, Any], status: int, body: bytes, content_type: str) -> None:
    checked = v3_path(path)
    if checked is None:
        return
    request = _request(method, checked, query, None, "application/json")
    try:
        spec().validate_response(request, MockResponse(body, status_code=status, content_type=content_type))
    except Exception as exc:
        raise ContractViolation(f"{method} {checked} answered {status}: {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    reasons = [str(exc)]
    cause = exc.__cause__
    errors = getattr(cause, "schema_errors", None)
    if errors:
        reasons = [f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}" for error in errors]
    return "; ".join(reasons)[:2000]
