"""Schemathesis hooks: every request carries a working personal API token of the user under test.

Fuzzing may revoke the token it is using (`DELETE /api/me/tokens/{id}` with a guessed id) or end its own
session; a 401 then makes Schemathesis ask for credentials again, and a new token is minted straight into the
database, so the rest of the run still exercises the API as that user.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
import schemathesis

from gateway.core.auth.tokens import hash_token, new_token
from tests.support import libpq_conninfo


@schemathesis.auth(retry_on=[401])
class FreshApiToken:
    def get(self, case: Any, context: Any) -> str:
        token = new_token("gwt")
        with psycopg.connect(libpq_conninfo(os.environ["FUZZ_DATABASE_URL"]), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, token_prefix, scopes, created_at)"
                " SELECT id, 'schemathesis', %s, %s, '[]', now() FROM users WHERE username = %s",
                (hash_token(token), token[:8], os.environ["FUZZ_USERNAME"]),
            )
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
