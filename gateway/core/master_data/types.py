"""Constrained field types shared by the master-data commands."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

Name = Annotated[str, Meta(min_length=1, max_length=255, pattern=r"\S")]
ShortName = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"\S")]
Id = Annotated[int, Meta(ge=1)]
