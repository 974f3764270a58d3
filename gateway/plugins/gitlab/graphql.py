"""The GraphQL documents the connector sends (each validated against GitLab's schema by the test fake) and the
mapping of GitLab's GraphQL errors onto the connector's typed errors.

GitLab answers many GraphQL failures with HTTP 200 and an `errors` array: top-level errors (a query GitLab
cannot run, a resource that "does not exist or you don't have permission", a timeout) and, for mutations, the
payload's own `errors` list (validation: a future `spentAt`, a zero or unreadable `timeSpent`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from gateway.connectors import AuthExpired, ConnectorError, NotFound, RateLimited, Rejected, Transient

TIMELOG_FIELDS = """
fragment TimelogFields on Timelog {
  id
  spentAt
  timeSpent
  summary
  user { id username }
  project { fullPath }
  issue { iid }
  mergeRequest { iid }
}"""

CURRENT_USER = """
query CurrentUser {
  currentUser { id username name }
}"""

# ISSUABLE is `issue` or `mergeRequest` (both take an `iid` on a project).
ISSUABLE_ID = """
query Issuable($fullPath: ID!, $iid: String!) {
  project(fullPath: $fullPath) {
    ISSUABLE(iid: $iid) { id }
  }
}"""

ISSUABLE_TIMELOGS = (
    """
query IssuableTimelogs($fullPath: ID!, $iid: String!, $first: Int!, $after: String) {
  project(fullPath: $fullPath) {
    ISSUABLE(iid: $iid) {
      id
      timelogs(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { ...TimelogFields }
      }
    }
  }
}"""
    + TIMELOG_FIELDS
)

USER_TIMELOGS = (
    """
query UserTimelogs($username: String!, $startTime: Time!, $endTime: Time!, $first: Int!, $after: String) {
  timelogs(username: $username, startTime: $startTime, endTime: $endTime, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { ...TimelogFields }
  }
}"""
    + TIMELOG_FIELDS
)

CREATE_TIMELOG = (
    """
mutation CreateTimelog($issuableId: IssuableID!, $timeSpent: String!, $spentAt: Time, $summary: String!) {
  timelogCreate(input: {issuableId: $issuableId, timeSpent: $timeSpent, spentAt: $spentAt, summary: $summary}) {
    timelog { ...TimelogFields }
    errors
  }
}"""
    + TIMELOG_FIELDS
)

DELETE_TIMELOG = """
mutation DeleteTimelog($id: TimelogID!) {
  timelogDelete(input: {id: $id}) {
    timelog { id }
    errors
  }
}"""


def issuable_id_query(field: str) -> str:
    return ISSUABLE_ID.replace("ISSUABLE", field)


def issuable_timelogs_query(field: str) -> str:
    return ISSUABLE_TIMELOGS.replace("ISSUABLE", field)


# GitLab's one answer for "not there" and "not yours to see" (Gitlab::Graphql::Errors::ResourceNotAvailable).
NOT_AVAILABLE = re.compile(r"does not exist or you don't have permission", re.IGNORECASE)
_AUTH = re.compile(r"invalid token|token (has )?(expired|been revoked)|401 unauthorized", re.IGNORECASE)
_RATE = re.compile(r"rate limit|too many (requests|times)|throttl", re.IGNORECASE)
_TRANSIENT = re.compile(r"timed? ?out|timeout|internal server error|try again later|service unavailable", re.I)


def graphql_error(errors: Iterable[Any], what: str) -> ConnectorError:
    """The typed error for a GraphQL answer's top-level `errors` (HTTP 200, or a 4xx/5xx with a body)."""
    messages = [str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in errors]
    text = "; ".join(messages)[:500] or "an error without a message"
    if any(_AUTH.search(message) for message in messages):
        return AuthExpired(f"{what}: GitLab no longer accepts the credentials ({text})")
    if any(_RATE.search(message) for message in messages):
        return RateLimited(f"{what}: GitLab asks to slow down ({text})", None)
    if any(_TRANSIENT.search(message) for message in messages):
        return Transient(f"{what}: GitLab failed ({text})")
    if any(NOT_AVAILABLE.search(message) for message in messages):
        return NotFound(f"{what}: {text}")
    return Rejected(f"{what}: GitLab refused it: {text}")


def payload_error(errors: list[str], what: str) -> Rejected:
    """A mutation's own `errors` (validation and permission): refused, with GitLab's words."""
    return Rejected(f"{what}: GitLab refused it: {'; '.join(errors)[:500]}")
