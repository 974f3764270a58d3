"""The interactive API documentation's own files (Swagger UI), served by the gateway so `/schema` works offline."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from litestar.router import Router
from litestar.static_files import create_static_files_router

API_DOCS_ASSETS = "/schema/assets"


def api_docs_router() -> Router:
    # swagger-ui-py ships Swagger UI's release files; only its static folder is used, not its Python code.
    static = Path(str(files("swagger_ui") / "static"))
    return create_static_files_router(path=API_DOCS_ASSETS, directories=[static], include_in_schema=False)
