"""Ticket keys: how they are written, normalised and checked against a project."""

from __future__ import annotations

import re

from gateway.core.errors import InvalidInput

_PATH = r"[A-Za-z0-9_.][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.\-]*)+"
# A project's ticket prefix: ABC (Jira keys ABC-123) or a GitLab project path (group/project: keys group/project#12
# and group/project!3).
TICKET_PREFIX = re.compile(rf"^(?:[A-Za-z][A-Za-z0-9_]*|{_PATH})$")
# A tracker key: ABC-123 (Jira), #123 or 123 (Redmine), group/project#123 and group/project!12 (GitLab).
TICKET_KEY = re.compile(rf"^(?:[A-Za-z][A-Za-z0-9_]*-\d+|#?\d+|{_PATH}[#!]\d+)$")
# The prefix of a key (group 1): ABC of ABC-123, GROUP/PROJECT of GROUP/PROJECT#12 or GROUP/PROJECT!3.
PREFIXED_KEY = re.compile(
    r"^([A-Z][A-Z0-9_]*(?=-)|[A-Z0-9_.][A-Z0-9_.\-]*(?:/[A-Z0-9_.][A-Z0-9_.\-]*)+(?=[#!]))[-#!]\d+$"
)
_BARE_GITLAB_KEY = re.compile(r"^[#!]\d+$")


def is_path_prefix(prefix: str) -> bool:
    """A GitLab project path (its keys are PATH#12 and PATH!3), not a Jira-style ABC (ABC-123)."""
    return "/" in prefix


def normalise_ticket(ticket: str, prefixes: list[str] | tuple[str, ...] = ()) -> str:
    """Trimmed and upper-cased, as tickets are stored and compared; a bare number is a Redmine issue: "#123".

    With the project's `prefixes`: a bare `#12` or `!3` on a project whose one path prefix is a GitLab project
    becomes that project's full key, so `#12` and `group/project#12` are stored alike.
    """
    key = ticket.strip().upper()
    if key.isdigit():
        key = f"#{key}"
    paths = [prefix for prefix in prefixes if is_path_prefix(prefix)]
    if len(paths) == 1 and _BARE_GITLAB_KEY.match(key):
        key = f"{paths[0].upper()}{key}"
    return key


def expand_bare_key(text: str, prefixes: list[str] | tuple[str, ...]) -> str:
    """`#12` or `!3` typed on a project whose one path prefix is a GitLab project: that project's full key; any
    other text unchanged (for searches, where a bare number also means words)."""
    stripped = text.strip()
    return normalise_ticket(stripped, prefixes) if _BARE_GITLAB_KEY.match(stripped) else text


def prefix_pattern(prefix: str) -> list[str]:
    """What keys of a prefix start with: ABC- for ABC, GROUP/PROJECT# and GROUP/PROJECT! for a path."""
    return [f"{prefix}#", f"{prefix}!"] if is_path_prefix(prefix) else [f"{prefix}-"]


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
    allowed = [f"{prefix}{'#' if is_path_prefix(prefix) else '-'}…" for prefix in prefixes] + subtickets
    raise InvalidInput(
        f"ticket {ticket} does not belong to this project (allowed: {', '.join(allowed)})", field="ticket"
    )
