"""OAuth 2.0 authorization code flow with PKCE, for connectors: authlib builds the requests, httpx sends them.

`OAuth2Connector` implements the linking methods of `Connector` from an `OAuth2Client` description, so an
OAuth connector only says where its endpoints are. Refresh tokens may rotate (GitLab, Jira Cloud): whatever the
token endpoint returns replaces what was stored, and the caller stores it before anything else.
"""

from __future__ import annotations

import types
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from gateway.connectors._base import Connector, not_oauth
from gateway.connectors._errors import AuthRevoked, Rejected, Transient, error_for_response
from gateway.connectors._types import AuthKind, AuthorizationStart, Capability, ConfigT, Credentials

PKCE_VERIFIER_LENGTH = 64


@dataclass(frozen=True)
class OAuth2Client:
    """A registered OAuth client of a tracker, and the tracker's endpoints."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str | None = field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...] = ()
    revoke_url: str | None = None
    pkce: bool = True
    # Atlassian's token endpoint takes a JSON body; most take a form.
    json_token_requests: bool = False
    extra_authorize_params: dict[str, str] = field(default_factory=dict)


def start_authorization(client: OAuth2Client, state: str) -> AuthorizationStart:
    verifier = generate_token(PKCE_VERIFIER_LENGTH) if client.pkce else None
    pkce = {"code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"} if verifier else {}
    url = prepare_grant_uri(
        client.authorize_url,
        client.client_id,
        "code",
        client.redirect_uri,
        scope=" ".join(client.scopes) or None,
        state=state,
        **pkce,
        **client.extra_authorize_params,
    )
    return AuthorizationStart(url=url, code_verifier=verifier)


async def exchange_code(
    http: httpx.AsyncClient, client: OAuth2Client, code: str, code_verifier: str | None, *, now: datetime | None = None
) -> Credentials:
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    body = await _token_request(
        http, client, "authorization_code", code=code, redirect_uri=client.redirect_uri, **extra
    )
    return _credentials(body, previous_secret=None, now=now)


async def refresh_tokens(
    http: httpx.AsyncClient, client: OAuth2Client, credentials: Credentials, *, now: datetime | None = None
) -> Credentials:
    if not credentials.secret:
        raise AuthRevoked("there is no refresh token; connect again")
    body = await _token_request(http, client, "refresh_token", refresh_token=credentials.secret)
    refreshed = _credentials(body, previous_secret=credentials.secret, now=now)
    refreshed.account_id = credentials.account_id
    refreshed.timezone = credentials.timezone
    refreshed.site_id = credentials.site_id
    refreshed.login = credentials.login
    return refreshed


async def revoke_tokens(http: httpx.AsyncClient, client: OAuth2Client, credentials: Credentials) -> None:
    if client.revoke_url is None:
        return
    for token, hint in ((credentials.secret, "refresh_token"), (credentials.access_token, "access_token")):
        if token:
            await http.post(
                client.revoke_url,
                data={"token": token, "token_type_hint": hint, **_client_auth(client)},
            )


async def _token_request(http: httpx.AsyncClient, client: OAuth2Client, grant_type: str, **values: str) -> Any:
    fields = {**values, **_client_auth(client)}
    try:
        if client.json_token_requests:
            response = await http.post(client.token_url, json={"grant_type": grant_type, **fields})
        else:
            body = prepare_token_request(grant_type, **fields)
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
            response = await http.post(client.token_url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise Transient(f"the token endpoint did not answer: {type(exc).__name__}") from None
    # Atlassian answers a refused refresh token with 403 invalid_grant, most others with 400 or 401.
    if response.status_code in (400, 401, 403):
        error = _json(response).get("error", "")
        if grant_type == "refresh_token" and error in ("invalid_grant", "invalid_token", "unauthorized_client", ""):
            raise AuthRevoked("the tracker refused the refresh token; connect again")
        raise Rejected(f"the tracker refused the authorisation ({error or response.status_code})")
    if response.is_error:
        raise error_for_response(response, "token request")
    body = _json(response)
    if "access_token" not in body:
        raise Rejected("the token endpoint answered without an access token")
    return body


def _client_auth(client: OAuth2Client) -> dict[str, str]:
    auth = {"client_id": client.client_id}
    if client.client_secret:
        auth["client_secret"] = client.client_secret
    return auth


def _credentials(body: dict[str, Any], *, previous_secret: str | None, now: datetime | None) -> Credentials:
    expires_in = body.get("expires_in")
    moment = now or datetime.now(UTC)
    return Credentials(
        access_token=str(body["access_token"]),
        # A tracker that does not rotate refresh tokens answers without one: keep using the old one.
        secret=str(body.get("refresh_token") or previous_secret or "") or None,
        expires_at=moment + timedelta(seconds=int(expires_in)) if expires_in else None,
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class OAuth2Connector(Connector[ConfigT]):
    """A connector whose users connect through OAuth 2.0; subclasses describe their client in `oauth2_client`.

    A connector with further auth modes (`auth_mode_field`) gets the token behaviour of `TokenConnector` for them:
    no authorisation pages, no refresh, nothing to revoke.
    """

    auth_modes: ClassVar[Mapping[str, AuthKind]] = types.MappingProxyType({"oauth2": AuthKind.OAUTH2})
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.REFRESH})

    @abstractmethod
    def oauth2_client(self) -> OAuth2Client:
        """The tracker's OAuth client for this ticket system (from its config, secrets and redirect URI)."""

    async def authorization_url(self, state: str) -> AuthorizationStart:
        if self.auth_kind is not AuthKind.OAUTH2:
            raise not_oauth(self)
        return start_authorization(self.oauth2_client(), state)

    async def exchange_code(self, code: str, code_verifier: str | None) -> Credentials:
        if self.auth_kind is not AuthKind.OAUTH2:
            raise not_oauth(self)
        return await exchange_code(self.context.http, self.oauth2_client(), code, code_verifier)

    async def refresh(self, credentials: Credentials) -> Credentials:
        if self.auth_kind is not AuthKind.OAUTH2:
            raise AuthRevoked(
                f"{self.name} {self.auth_mode.replace('_', ' ')} credentials do not refresh; connect again"
            )
        return await refresh_tokens(self.context.http, self.oauth2_client(), credentials)

    async def revoke(self, credentials: Credentials) -> None:
        if self.auth_kind is AuthKind.OAUTH2:
            await revoke_tokens(self.context.http, self.oauth2_client(), credentials)
