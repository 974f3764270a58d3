"""OAuth 1.0a with RSA-SHA1 (Jira Data Center's application links, and others): authlib signs, httpx sends.

The three-legged dance: a request token (carrying our callback), the user authorises it in Jira, and the
verifier from the callback trades it for an access token. Every later request is signed with the consumer's
private key; the token secret plays no part in RSA-SHA1 signatures. Access tokens do not expire soon (Jira
issues them for years) and cannot be refreshed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import httpx
from authlib.oauth1 import SIGNATURE_RSA_SHA1, ClientAuth

from gateway.connectors._errors import Rejected, Transient, error_for_response

# Jira's endpoints; other trackers name theirs in `OAuth1Consumer(servlet=...)`.
SERVLET = "/plugins/servlet/oauth"


@dataclass(frozen=True)
class OAuth1Consumer:
    """An OAuth 1.0a consumer of a tracker at `base_url`: its endpoints are `{base_url}{servlet}/request-token`,
    `/authorize` and `/access-token`."""

    base_url: str
    consumer_key: str
    private_key: str = field(repr=False)
    servlet: str = SERVLET

    def sign(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes = b"",
        *,
        token: str | None = None,
        callback: str | None = None,
        verifier: str | None = None,
    ) -> dict[str, str]:
        """`headers` plus the OAuth Authorization header for this request."""
        auth = ClientAuth(
            self.consumer_key,
            token=token,
            redirect_uri=callback,
            rsa_key=self.private_key,
            verifier=verifier,
            signature_method=SIGNATURE_RSA_SHA1,
        )
        _url, signed, _body = auth.prepare(method, url, dict(headers), body)
        return dict(signed)

    async def request_token(self, http: httpx.AsyncClient, callback: str) -> tuple[str, str]:
        """(request token, its secret), the token to be authorised by the user."""
        body = await self._token_call(http, "request-token", callback=callback)
        return body["oauth_token"], body.get("oauth_token_secret", "")

    def authorize_url(self, request_token: str) -> str:
        return f"{self.base_url}{self.servlet}/authorize?{urlencode({'oauth_token': request_token})}"

    async def access_token(self, http: httpx.AsyncClient, request_token: str, verifier: str) -> tuple[str, str]:
        body = await self._token_call(http, "access-token", token=request_token, verifier=verifier)
        return body["oauth_token"], body.get("oauth_token_secret", "")

    async def _token_call(self, http: httpx.AsyncClient, step: str, **oauth: str) -> dict[str, str]:
        url = f"{self.base_url}{self.servlet}/{step}"
        headers = self.sign("POST", url, {}, b"", **oauth)
        try:
            response = await http.post(url, headers=headers)
        except httpx.HTTPError as exc:
            raise Transient(f"OAuth {step}: the tracker did not answer ({type(exc).__name__})") from None
        if response.status_code in (400, 401):
            problem = dict(parse_qsl(response.text)).get("oauth_problem", str(response.status_code))
            raise Rejected(f"the tracker refused the OAuth {step} ({problem}); is the OAuth consumer set up there?")
        if response.is_error:
            raise error_for_response(response, f"OAuth {step}")
        body = dict(parse_qsl(response.text))
        if "oauth_token" not in body:
            raise Rejected(f"the tracker answered the OAuth {step} without a token")
        return body
