"""Constrained field types shared by the commands of the API (master data, entries, reports).

Where a type has a pattern, `PATTERN_HINTS` says in words what to send, so an error names the format instead of
quoting a regular expression.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

# Ids, versions and minutes are PostgreSQL `integer` columns: a larger number names nothing and cannot be stored.
MAX_INT = 2**31 - 1

# White space by the same rule in Python and in the ECMAScript regular expressions of JSON Schema (each counts
# a few characters as white space that the other does not), so client and server agree on every pattern.
SPACE = r"\s\x1c-\x1f\x85\ufeff"
NOT_BLANK = rf"[^{SPACE}]"
WALL_TIME = r"^([01]\d|2[0-3]):[0-5]\d(:00)?$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
HTTP_URL = rf"^https?://[^{SPACE}]+$"
EMAIL = rf"^[^@{SPACE}]+@[^@{SPACE}]+$"
LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"

PATTERN_HINTS: dict[str, str] = {
    NOT_BLANK: "must not be blank",
    WALL_TIME: "use HH:MM, e.g. 09:00",
    MONTH: "use YYYY-MM, e.g. 2026-11",
    HTTP_URL: "use an http:// or https:// URL",
    EMAIL: "use an e-mail address such as ann@example.org",
    LOCALE: "use a language code such as en or de-AT",
}

Name = Annotated[str, Meta(min_length=1, max_length=255, pattern=NOT_BLANK)]
ShortName = Annotated[str, Meta(min_length=1, max_length=128, pattern=NOT_BLANK)]
Id = Annotated[int, Meta(ge=1, le=MAX_INT)]
Minutes = Annotated[int, Meta(ge=0, le=MAX_INT)]
# A wall-clock time of the user's day, to the minute: "08:30" (":00" seconds are accepted).
WallTime = Annotated[str, Meta(pattern=WALL_TIME, examples=["08:30"], description="HH:MM in the user's local time")]
