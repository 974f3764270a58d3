"""Path and query parameters shared by the controllers, with the bounds the database can hold."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from gateway.core.master_data.types import MAX_INT

# A row's id in the path: 1 … 2³¹-1 (larger numbers name nothing and are refused with 400).
RowId = Annotated[int, PathParameter(ge=1, le=MAX_INT)]
# A filter by a row's id in the query.
IdFilter = Annotated[int | None, QueryParameter(ge=1, le=MAX_INT)]
