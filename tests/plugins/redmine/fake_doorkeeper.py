"""A fake of Redmine 6.1's OAuth provider (Doorkeeper), for the connector's `oauth2` mode.

`/oauth/authorize` (code, state, PKCE S256) redirects at once with a code; `/oauth/token` (form) answers 2-hour
tokens and rotates the refresh token; `/users/current.json` takes `Authorization: Bearer`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from litestar import Litestar, Request, Response, get, post
from litestar.response import Redirect


@dataclass
class FakeDoorkeeper:
    client_id: str = "redmine-app"
    client_secret: str = "redmine-app-secret"
    codes: dict[str, str | None] = field(default_factory=dict)  # code -> PKCE challenge
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    refreshes: int = 0

    def app(self) -> Litestar:
        fake = self

        @get("/oauth/authorize")
        async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
            query = request.query_params
            if query.get("client_id") != fake.client_id:
                return Response({"error": "invalid_client"}, status_code=401)
            code = secrets.token_hex(8)
            fake.codes[code] = query.get("code_challenge")
            return Redirect(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}")

        @post("/oauth/token", status_code=200)
        async def token(request: Request[Any, Any, Any]) -> Response[Any]:
            form = await request.form()
            if (form.get("client_id"), form.get("client_secret")) != (fake.client_id, fake.client_secret):
                return Response({"error": "invalid_client"}, status_code=401)
            if form.get("grant_type") == "authorization_code":
                challenge = fake.codes.pop(str(form.get("code")), "missing")
                verifier = str(form.get("code_verifier", ""))
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if challenge == "missing" or (challenge is not None and digest != challenge):
                    return Response({"error": "invalid_grant"}, status_code=400)
            elif form.get("grant_type") == "refresh_token":
                if str(form.get("refresh_token")) not in fake.refresh_tokens:
                    return Response({"error": "invalid_grant"}, status_code=400)
                fake.refresh_tokens.discard(str(form.get("refresh_token")))
                fake.refreshes += 1
            access, refresh = secrets.token_hex(16), secrets.token_hex(16)
            fake.access_tokens.add(access)
            fake.refresh_tokens.add(refresh)
            return Response(
                {"access_token": access, "token_type": "Bearer", "expires_in": 7200, "refresh_token": refresh}
            )

        @get("/users/current.json")
        async def current(request: Request[Any, Any, Any]) -> Response[Any]:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in fake.access_tokens:
                return Response({}, status_code=401)
            return Response({"user": {"id": 77, "login": "oauthuser", "firstname": "O", "lastname": "Auth"}})

        return Litestar(route_handlers=[authorize, token, current], openapi_config=None, logging_config=None)
