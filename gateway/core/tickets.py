"""Ticket keys: how they are written, normalised and checked against a project."""

from __future__ import annotations

import re

from gateway.core.errors import InvalidInput

TICKET_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# A tracker key: ABC-123 (Jira), #123 or 123 (Redmine), group/project#123 (GitLab).
TICKET_KEY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]*-\d+|#?\d+|[A-Za-z0-9_.\-/]+#\d+)$")
PREFIXED_KEY = re.compile(r"^([A-Z][A-Z0-9_]*)-\d+$")


def normalise_ticket(ticket: str) -> str:
    """Trimmed and upper-cased, as tickets are stored and compared; a bare number is a Redmine issue: "#123"."""
    key = ticket.strip().upper()
    return f"#{key}" if key.isdigit() else key


def check_ticket_for_project(ticket: str, prefixes: list[str], subtickets: list[str]) -> None:
    """A ticket must carry one of the project's prefixes (ABC-123) or be one of its listed sub-tickets.

    A project with neither accepts any well-formed key; `ticket` is already normalised.
    """
    if not TICKET_KEY.match(ticket):
        raise InvalidInput(f"{ticket!r} is not a ticket key such as ABC-123", field="ticket")
    if not prefixes and not subtickets:
        return
    if ticket in subtickets:
        return
    match = PREFIXED_KEY.match(ticket)
    if match and match.group(1) in prefixes:
        return
    allowed = [f"{prefix}-…" for prefix in prefixes] + subtickets
    raise InvalidInput(
        f"ticket {ticket} does not belong to this project (allowed: {', '.join(allowed)})", field="ticket"
    )
