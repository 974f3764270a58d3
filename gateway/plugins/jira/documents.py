"""Worklog comments: plain text on REST v2, an Atlassian Document Format document on v3."""

from __future__ import annotations

from typing import Any


def text_to_adf(text: str) -> dict[str, Any]:
    """One paragraph per line; an empty line is an empty paragraph, so the text comes back unchanged."""
    paragraphs: list[dict[str, Any]] = []
    for line in text.split("\n"):
        paragraph: dict[str, Any] = {"type": "paragraph", "content": []}
        if line:
            paragraph["content"].append({"type": "text", "text": line})
        paragraphs.append(paragraph)
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(document: Any) -> str:
    """The text of a comment: a string as it is; a document's text nodes, a line per block, hard breaks kept."""
    if document is None:
        return ""
    if isinstance(document, str):
        return document
    if not isinstance(document, dict):
        return ""
    if document.get("type") == "doc":
        return "\n".join(_inline(block) for block in document.get("content") or [])
    return _inline(document)


def _inline(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji"):
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or "")
    parts = [_inline(child) for child in node.get("content") or []]
    # Blocks nested in lists and panels each start a line of their own.
    joiner = "\n" if kind in ("bulletList", "orderedList", "listItem", "panel", "blockquote", "table") else ""
    return joiner.join(parts)
