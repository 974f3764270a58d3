"""Rendering a page for the logged-in user: the layout's common context (who, the CSRF token, where)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api.csrf import csrf_token
from gateway.core.auth.caller import Caller
from gateway.core.users import get_user

# A user's pages hold their data and a CSRF token: no cache (a shared proxy least of all) keeps them.
NOT_STORED = {"Cache-Control": "no-store"}


async def render(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    caller: Caller,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    me = await get_user(db_session, caller.user_id)
    return Template(
        template_name=template,
        context={"me": me, "csrf_token": csrf_token(request), "path": request.url.path, **context},
        status_code=status_code,
        headers=NOT_STORED,
    )


def fragment(template: str, **context: Any) -> Template:
    """A part of a page, fetched by its script to replace that part after a change."""
    return Template(template_name=template, context=context, headers=NOT_STORED)
