"""GitLab ticket keys: `group/subgroup/project#iid` for issues, `group/project!iid` for merge requests.

The gateway stores ticket keys trimmed and upper-cased; GitLab resolves project paths without regard to case, so
the upper-cased key reaches the same project. A bare `#123` (or `!12`) means the ticket system's
`default_project`. Every key the connector returns is the full form, upper-cased: one normal form per ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from gateway.connectors import Rejected

_PATH = r"[A-Za-z0-9_.][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.\-]*)+"
KEY = re.compile(rf"^\s*(?P<path>{_PATH})?\s*(?P<sigil>[#!])(?P<iid>\d+)\s*$")
PROJECT_PATH = re.compile(rf"^{_PATH}$")


@dataclass(frozen=True, slots=True)
class TicketKey:
    path: str  # the project's full path, as given (GitLab matches it without regard to case)
    merge_request: bool
    iid: int

    @property
    def sigil(self) -> str:
        return "!" if self.merge_request else "#"

    @property
    def key(self) -> str:
        """The normal form the gateway stores: the full key, upper-cased."""
        return canonical(self.path, self.merge_request, self.iid)

    @property
    def graphql_field(self) -> str:
        return "mergeRequest" if self.merge_request else "issue"

    @property
    def rest_path(self) -> str:
        kind = "merge_requests" if self.merge_request else "issues"
        return f"/projects/{quote(self.path, safe='')}/{kind}/{self.iid}"


def canonical(path: str, merge_request: bool, iid: int | str) -> str:
    return f"{path.strip().upper()}{'!' if merge_request else '#'}{iid}"


def parse_key(text: str, default_project: str | None) -> TicketKey:
    """A key as a user or the gateway writes it; `#123` and `!12` take the ticket system's default project."""
    found = KEY.match(text)
    if found is None:
        raise Rejected(f"{text!r} is not a GitLab ticket such as group/project#123 or group/project!12")
    path = found["path"] or default_project
    if not path:
        raise Rejected(
            f"{text!r} names no GitLab project: write group/project{found['sigil']}{found['iid']}, or set the ticket "
            "system's default_project"
        )
    return TicketKey(path=path, merge_request=found["sigil"] == "!", iid=int(found["iid"]))


def numeric_id(global_id: str | int | None) -> str | None:
    """`gid://gitlab/User/5` -> "5" (a plain number passes through)."""
    if global_id is None:
        return None
    return str(global_id).rsplit("/", 1)[-1]
