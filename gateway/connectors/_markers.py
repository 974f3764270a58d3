"""The marker that makes pushes exactly-once, for trackers that keep it in a worklog's text.

A tracker with somewhere of its own for it (a worklog property, a custom field) stores `WorklogDraft.marker`
there. Others append a tag to the comment: `… [tt:<marker>]`. `find_worklog_by_marker` then reads the tag back,
and `RemoteWorklog.description` is the comment without it, so users never see the tag come back into the entry.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"\s*\[tt:([^\]\s]{1,64})\]\s*$")


def add_marker(text: str, marker: str, *, max_length: int | None = None) -> str:
    """`text` with the marker tag at its end, the text cut so the whole fits in `max_length` characters."""
    tag = f" [tt:{marker}]"
    if max_length is not None:
        text = text[: max(0, max_length - len(tag))]
    return text.rstrip() + tag


def split_marker(text: str) -> tuple[str, str | None]:
    """(the text without a trailing marker tag, the marker or None)."""
    found = _TAG.search(text)
    if found is None:
        return text, None
    return text[: found.start()], found.group(1)
