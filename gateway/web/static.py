"""The UI's scripts and styles, served by the gateway itself (nothing comes from a CDN). Their URLs carry a
content hash (`templating.static_url`), so browsers may keep them for a year."""

from __future__ import annotations

from litestar.datastructures import CacheControlHeader
from litestar.router import Router
from litestar.static_files import create_static_files_router

from gateway.web.templating import STATIC, STATIC_PATH


def static_files() -> Router:
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True, immutable=True),
        include_in_schema=False,
    )
