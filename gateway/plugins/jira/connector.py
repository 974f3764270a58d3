"""The Jira connector: Cloud (REST v3) and Data Center (REST v2), chosen per ticket system.

Ways to connect (`config.auth`): Cloud OAuth 2.0 (3LO; API calls then go through Atlassian's gateway at
`/ex/jira/{cloudId}`, the cloud id read from `accessible-resources` when the code is exchanged) or a Cloud API
token (Basic e-mail:token); Data Center personal access tokens (Bearer) or OAuth 1.0a RSA-SHA1.

Worklogs carry the entry's marker: on Cloud as a worklog property (`timetracker`, read back with
`expand=properties`); on Data Center, whose worklog bean has no properties (and refuses unknown body fields with
400), as a tag at the end of the comment (`… [tt:<uuid>]`). A tag is read on both flavours.
`started` is the user's local wall time with the offset of their Jira time zone (`/myself` → `timeZone`).
The pull reads only the linked user's changes (see `pull_worklogs`): the issues they logged work on that changed
since a little before the last read began, each read whole, and Jira's id-only deletion feed; never the site's
`/worklog/updated` feed and its bodies, which would cost every link the whole site's activity. Cloud writes send
`notifyUsers=false`; scoped Cloud API tokens go through Atlassian's gateway.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import msgspec

from gateway.connectors import (
    AuthExpired,
    AuthKind,
    AuthorizationStart,
    AuthRevoked,
    Capability,
    Credentials,
    NotFound,
    OAuth1Consumer,
    OAuth2Client,
    OAuth2Connector,
    PullPage,
    Rejected,
    RemoteAccount,
    RemoteWorklog,
    TicketData,
    Transient,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventKind,
    WorklogDraft,
    add_marker,
    error_for_response,
    hmac_sha256_hex,
    same_secret,
    split_marker,
)
from gateway.plugins.jira.config import JiraConfig
from gateway.plugins.jira.documents import adf_to_text, text_to_adf
from gateway.plugins.jira.timestamps import epoch_ms, local_day_and_start, parse_jira_datetime, started_text

MARKER_PROPERTY = "timetracker"
SCOPES = ("read:jira-work", "write:jira-work", "read:jira-user", "offline_access")
TICKET_FIELDS = "summary,status,issuetype,project,assignee,timetracking,updated"
# Issue-level worklog events (webhookEvent "jira:worklog_updated", or "jira:issue_updated" on older servers).
ISSUE_WORKLOG_EVENTS = frozenset({"issue_work_logged", "issue_worklog_updated", "issue_worklog_deleted"})
# The deletion feed leaves out the most recent minute: each read starts this long before the last deletion seen.
OVERLAP = timedelta(minutes=2)
# Each read's window of changed issues starts this long before the previous read began: the search lags behind
# writes (seconds, at times minutes: Atlassian's "search and reconcile").
SEARCH_OVERLAP = timedelta(minutes=10)
ISSUES_PER_PAGE = 20  # issues read whole per page of a pull (each page is applied and its position kept)
RECONCILE_LIMIT = 50  # issue ids a Cloud search reconciles at most
SEARCH_PAGE = 1000  # issues per search page when only keys are asked for (Jira may answer fewer)
LIST_LIMIT = 1000  # ids per POST /worklog/list
SEARCH_CHUNK = 100  # issue ids per key lookup
PAGE_SIZE = 5000  # worklogs per page of an issue's list: Jira Cloud's largest
# Jira's default limit of a text field (jira.text.field.character.limit); the comment with its marker tag fits.
COMMENT_LIMIT = 32767
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
TIME_SPENT = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])")
UNIT_SECONDS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


class PullState(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where a pull is (its `next_page`): what is left to read, and the cursor it will store once complete."""

    phase: str  # "issues" (the user's changed issues), then "deleted" (the deletion feed)
    since: int  # issues: the window's start (ms); deleted: the feed's next `since`
    started: int  # when the read began (ms): the next read's window starts a little before it
    deleted: int  # the deletion feed's position (the last deletion time seen)
    issues: list[list[str]] = msgspec.field(default_factory=list)  # [id, key] of the issues still to read
    # The ids of the user's most recently changed issues, which the next read's search reconciles (Cloud).
    recent: list[str] = msgspec.field(default_factory=list)


class JiraConnector(OAuth2Connector[JiraConfig]):
    name = "jira"
    auth_modes = {
        "oauth2": AuthKind.OAUTH2,
        "api_token": AuthKind.API_KEY,
        "personal_token": AuthKind.PERSONAL_TOKEN,
        "oauth1": AuthKind.OAUTH1,
    }
    auth_mode_field = "auth"
    secret_names = ("client_secret", "private_key", "webhook_secret")
    capabilities = frozenset({Capability.REFRESH, Capability.WEBHOOKS, Capability.DELETION_FEED, Capability.SEARCH})

    @property
    def cloud(self) -> bool:
        return self.config.flavour == "cloud"

    # Linking ---------------------------------------------------------------------------------------------------

    def oauth2_client(self) -> OAuth2Client:
        if self.config.mode != "oauth2" or not self.config.client_id:
            raise Rejected("this Jira ticket system is not set up for OAuth 2.0 (config auth and client_id)")
        return OAuth2Client(
            authorize_url=f"{self.config.auth_url}/authorize",
            token_url=f"{self.config.auth_url}/oauth/token",
            client_id=self.config.client_id,
            client_secret=self.context.secrets.get("client_secret"),
            redirect_uri=self.context.redirect_uri or "",
            scopes=SCOPES,
            pkce=False,
            json_token_requests=True,
            extra_authorize_params={"audience": "api.atlassian.com", "prompt": "consent"},
        )

    def oauth1_consumer(self) -> OAuth1Consumer:
        key = self.context.secrets.get("private_key")
        if self.config.mode != "oauth1" or not self.config.consumer_key or not key:
            raise Rejected("this Jira ticket system is not set up for OAuth 1.0a (consumer_key and private_key)")
        return OAuth1Consumer(self.context.base_url, self.config.consumer_key, key)

    async def authorization_url(self, state: str) -> AuthorizationStart:
        if self.config.mode != "oauth1":
            return await super().authorization_url(state)
        consumer = self.oauth1_consumer()
        redirect = self.context.redirect_uri or ""
        callback = f"{redirect}{'&' if '?' in redirect else '?'}{urlencode({'state': state})}"
        token, _secret = await consumer.request_token(self.context.http, callback)
        # The request token travels as the "verifier" the gateway keeps (sealed) until the callback.
        return AuthorizationStart(url=consumer.authorize_url(token), code_verifier=token)

    async def exchange_code(self, code: str, code_verifier: str | None) -> Credentials:
        if self.config.mode == "oauth1":
            if not code_verifier:
                raise Rejected("the OAuth 1.0a request token is missing; start connecting again")
            token, secret = await self.oauth1_consumer().access_token(self.context.http, code_verifier, code)
            return Credentials(access_token=token, secret=secret or None)
        credentials = await super().exchange_code(code, code_verifier)
        credentials.site_id = await self._cloud_id(credentials)
        return credentials

    async def refresh(self, credentials: Credentials) -> Credentials:
        refreshed = await super().refresh(credentials)
        if not refreshed.site_id:
            refreshed.site_id = await self._cloud_id(refreshed)
        return refreshed

    async def revoke(self, credentials: Credentials) -> None:
        # Atlassian offers no revocation endpoint for 3LO tokens or PATs: the user removes the grant in Jira.
        return

    async def account(self, credentials: Credentials) -> RemoteAccount:
        try:
            me = await self._call("GET", "/myself", credentials, "read the account")
        except AuthExpired:
            if not (self.cloud and self.config.mode == "api_token" and not credentials.site_id):
                raise
            # A scoped API token (the only kind service accounts get) is refused on the site and works only
            # through Atlassian's gateway at /ex/jira/{cloudId}. Once it answers there, the link keeps the cloud
            # id (`site_id`, stored with the credentials) and every call goes that way.
            scoped = msgspec.structs.replace(credentials, site_id=await self._tenant_cloud_id())
            me = await self._call("GET", "/myself", scoped, "read the account")
            credentials.site_id = scoped.site_id
        return RemoteAccount(id=self._account_id(me), name=me.get("displayName") or "", timezone=me.get("timeZone"))

    async def _tenant_cloud_id(self) -> str:
        """The site's cloud id, which every Cloud site publishes without authentication at `/_edge/tenant_info`."""
        url = f"{self.context.base_url.rstrip('/')}/_edge/tenant_info"
        response = await self._send("GET", url, {"Accept": "application/json"}, None, "read the site's cloud id")
        cloud_id = response.json().get("cloudId") if response.content else None
        if not cloud_id:
            raise Rejected(f"{self.context.base_url} names no cloud id: is it a Jira Cloud site?")
        return str(cloud_id)

    async def _cloud_id(self, credentials: Credentials) -> str:
        url = f"{self.config.api_gateway_url}/oauth/token/accessible-resources"
        headers = {"Authorization": f"Bearer {credentials.access_token}", "Accept": "application/json"}
        response = await self._send("GET", url, headers, None, "list the accessible Jira sites")
        site = _host(self.context.base_url)
        for resource in response.json():
            if _host(str(resource.get("url", ""))) == site:
                return str(resource["id"])
        raise Rejected(f"the authorised Atlassian account has no access to {self.context.base_url}")

    # Worklogs --------------------------------------------------------------------------------------------------

    async def create_worklog(self, credentials: Credentials, draft: WorklogDraft) -> RemoteWorklog:
        body = await self._call(
            "POST", f"/issue/{draft.ticket}/worklog", credentials, f"add a worklog to {draft.ticket}",
            params=self._write_params(), json=self._worklog_body(draft, credentials),
        )  # fmt: skip
        return self._worklog(body, draft.ticket, credentials)

    async def update_worklog(self, credentials: Credentials, worklog_id: str, draft: WorklogDraft) -> RemoteWorklog:
        try:
            # By the issue's id when the gateway knows it: a key changes when the issue moves to another project.
            body = await self._call(
                "PUT", f"/issue/{draft.ticket_id or draft.ticket}/worklog/{worklog_id}", credentials,
                f"change worklog {worklog_id}",
                params=self._write_params(), json=self._worklog_body(draft, credentials),
            )  # fmt: skip
        except NotFound:
            # Not on the entry's issue: deleted in Jira (NotFound: the gateway marks the entry deleted there), or
            # moved there to another issue (Cloud moves worklogs; an issue moved to another project changes its
            # key). A move made in Jira is followed: the worklog is changed where it now is and reported with that
            # issue's key, so the entry takes the new ticket. Nothing is deleted or created here: creating stays
            # the engine's exactly-once path.
            existing = await self._worklogs_by_id(credentials, [worklog_id])
            if not existing:
                raise
            issue_id = str(existing[0]["issueId"])
            body = await self._call(
                "PUT", f"/issue/{issue_id}/worklog/{worklog_id}", credentials, f"change worklog {worklog_id}",
                params=self._write_params(), json=self._worklog_body(draft, credentials),
            )  # fmt: skip
            keys = await self._issue_keys(credentials, {issue_id})
            return self._worklog(body, keys.get(issue_id, draft.ticket), credentials)
        return self._worklog(body, draft.ticket, credentials)

    async def delete_worklog(self, credentials: Credentials, ticket: str, worklog_id: str) -> None:
        try:
            await self._call(
                "DELETE", f"/issue/{ticket}/worklog/{worklog_id}", credentials, f"delete a worklog of {ticket}",
                params=self._write_params(),
            )  # fmt: skip
        except NotFound:
            return

    async def find_worklog_by_marker(
        self, credentials: Credentials, ticket: str, marker: str, *, day: date | None = None
    ) -> RemoteWorklog | None:
        """The worklog carrying `marker` on `ticket`, read in Jira's largest pages (Cloud: 5000; Data Center
        answers every worklog of the issue at once). Given the entry's `day`, Cloud reads only the worklogs started
        within a day of it (`startedAfter`/`startedBefore`)."""
        params: dict[str, Any] = {}
        if day is not None and self.cloud:
            params["startedAfter"] = epoch_ms(datetime.combine(day - timedelta(days=1), time(), UTC))
            params["startedBefore"] = epoch_ms(datetime.combine(day + timedelta(days=2), time(), UTC))
        for item in await self._issue_worklogs(credentials, ticket, params):
            if _marker(item) == marker:
                return self._worklog(item, ticket, credentials)
        return None

    async def _issue_worklogs(
        self, credentials: Credentials, issue: str, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Every worklog of an issue (within `params`' dates). Offset pages can skip a worklog when another one is
        deleted meanwhile: when the total changed during the read, it is read once more."""
        for _attempt in range(2):
            items: list[dict[str, Any]] = []
            totals: set[int] = set()
            while True:
                page = await self._call(
                    "GET", f"/issue/{issue}/worklog", credentials, f"list the worklogs of {issue}",
                    params={"startAt": len(items), "maxResults": PAGE_SIZE, **params} | self._expand(),
                )  # fmt: skip
                found = page.get("worklogs", [])
                items += found
                totals.add(int(page.get("total", 0)))
                if not found or len(items) >= int(page.get("total", 0)):
                    break
            if len(totals) == 1:
                break
        return items

    async def pull_worklogs(self, credentials: Credentials, cursor: str | None, page: str | None) -> PullPage:
        """The linked user's worklogs changed since the cursor, read from the user's own issues.

        Not the site's change feed: that lists every user's changes, and reading their bodies only to drop other
        people's costs each link the whole site's activity (against Cloud's points quota for apps). Instead the
        search finds the issues the user has logged work on that changed since the window's start (`worklogAuthor
        = currentUser() AND updated >= -Nm`: adding, changing or deleting a worklog updates its issue), the first
        page takes their ids and keys, and each page then reads `ISSUES_PER_PAGE` of them whole (Jira's largest
        pages) and keeps the user's worklogs changed in the window. `startedAfter` is not used: an edit of an old
        worklog must be seen. The window starts `SEARCH_OVERLAP` before the previous read began, which covers the
        search's lag behind writes, and it reaches to now, so the newest minute is read too; on Cloud the search
        also reconciles the user's latest issues (`reconcileIssues`), so a change there is seen at once. Deletions
        come from Jira's `/worklog/deleted` feed (ids only, no bodies; the engine matches them to the worklogs it
        knows), read last; a first pull starts it as the read begins (nothing of this link can have been deleted
        before).
        Each page's token holds what is left to read, so an unfinished pull goes on where it stopped.
        """
        if page:
            try:
                state = msgspec.json.decode(page, type=PullState)
            except (msgspec.ValidationError, msgspec.DecodeError):
                # An older gateway's position (the site feed's): read again from the cursor.
                raise Rejected("not a position of this Jira pull") from None
        else:
            state = await self._start(credentials, cursor)
        if state.phase == "issues":
            chunk, state.issues = state.issues[:ISSUES_PER_PAGE], state.issues[ISSUES_PER_PAGE:]
            worklogs = await self._changed_worklogs(credentials, chunk, state.since)
            if not state.issues:
                state.phase, state.since = "deleted", _since(state.deleted)
            return PullPage(worklogs=worklogs, next_page=msgspec.json.encode(state).decode())
        feed = await self._call(
            "GET", "/worklog/deleted", credentials, "read the deleted worklogs", params={"since": state.since}
        )
        values = feed.get("values", [])
        state.deleted = max([state.deleted, *(int(v["updatedTime"]) for v in values)])
        deleted = [str(v["worklogId"]) for v in values]
        if not feed.get("lastPage", True):
            state.since = _next_since(feed, state.since)
            return PullPage(worklogs=[], deleted_ids=deleted, next_page=msgspec.json.encode(state).decode())
        cursor_out = msgspec.json.encode(
            {"issues": state.started, "deleted": state.deleted, "recent": state.recent}
        ).decode()
        return PullPage(worklogs=[], deleted_ids=deleted, cursor=cursor_out)

    async def _start(self, credentials: Credentials, cursor: str | None) -> PullState:
        """A read's first position: its window, and the user's issues changed in it (ids and keys only)."""
        started = epoch_ms(datetime.now(UTC))
        if cursor:
            position = msgspec.json.decode(cursor)
            # "updated": the site feed's position, written by gateways before the per-user read.
            since = int(position.get("issues", position.get("updated", 0))) - _ms(SEARCH_OVERLAP)
            deleted = int(position["deleted"])
            recent = [str(ident) for ident in position.get("recent", [])]
        else:
            since = started - _ms(timedelta(days=self.config.initial_pull_days))
            # Nothing this link knows can have been deleted before its first read: the feed starts with the read
            # (as far back as the search's overlap, so a deletion made while the read begins is not missed).
            deleted = started - _ms(SEARCH_OVERLAP)
            recent = []
        # Relative to Jira's clock, as long as the window: any difference between the clocks cancels out.
        minutes = -(-(started - since) // 60_000) + 1
        jql = f"worklogAuthor = currentUser() AND updated >= -{minutes}m ORDER BY updated DESC"
        issues = [
            [str(issue["id"]), str(issue["key"])]
            async for issue in self.search_issues(
                credentials, jql, fields="key", page_size=SEARCH_PAGE, reconcile=recent
            )
        ]
        # The issues the user worked on last are where the next change most likely is (the one a webhook announces):
        # the next search judges them as they are then, whatever the index's lag.
        latest = [ident for ident, _key in issues][:RECONCILE_LIMIT]
        recent = latest + [ident for ident in recent if ident not in latest]
        return PullState(
            phase="issues", since=since, started=started, deleted=deleted, issues=issues,
            recent=recent[:RECONCILE_LIMIT],
        )  # fmt: skip

    async def _changed_worklogs(
        self, credentials: Credentials, issues: list[list[str]], since: int
    ) -> list[RemoteWorklog]:
        """The user's worklogs on `issues` changed at or after `since` (ms); an issue gone meanwhile is skipped."""
        changed: list[RemoteWorklog] = []
        for issue_id, key in issues:
            try:
                items = await self._issue_worklogs(credentials, issue_id, {})
            except (Rejected, NotFound):
                continue  # deleted, or closed to the user, since the search: its deletions come from the feed
            for item in items:
                updated = epoch_ms(parse_jira_datetime(str(item.get("updated") or item["started"])))
                if updated >= since and self._is_own(item, credentials):
                    changed.append(self._worklog(item, key, credentials))
        return changed

    async def _worklogs_by_id(self, credentials: Credentials, ids: list[str]) -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        for offset in range(0, len(ids), LIST_LIMIT):
            chunk = [int(i) for i in ids[offset : offset + LIST_LIMIT]]
            bodies += await self._call(
                "POST", "/worklog/list", credentials, "read worklogs", params=self._expand(),
                json={"ids": chunk},
            )  # fmt: skip
        return bodies

    async def _issue_keys(self, credentials: Credentials, issue_ids: set[str]) -> dict[str, str]:
        """The keys of the issues `issue_ids`: one search per hundred, then each issue the search left out on its own.

        The search is not read-after-write consistent (Atlassian's "search and reconcile": it lags seconds to
        minutes behind writes), and Data Center refuses with 400 JQL naming an issue deleted since the feed listed
        its worklog. Either would drop worklogs while the cursor moves past them; an issue Jira no longer has
        (404 on its own) is gone with its worklogs.
        """
        keys: dict[str, str] = {}
        ordered = sorted(issue_ids, key=int)
        for offset in range(0, len(ordered), SEARCH_CHUNK):
            jql = f"id in ({','.join(ordered[offset : offset + SEARCH_CHUNK])})"
            with contextlib.suppress(Rejected):
                async for issue in self.search_issues(credentials, jql, fields="key"):
                    keys[str(issue["id"])] = str(issue["key"])
        for issue_id in ordered:
            if issue_id in keys:
                continue
            try:
                issue = await self._call(
                    "GET", f"/issue/{issue_id}", credentials, f"read issue {issue_id}", params={"fields": "key"}
                )
            except NotFound:
                continue
            keys[issue_id] = str(issue["key"])
        return keys

    # Tickets ---------------------------------------------------------------------------------------------------

    async def fetch_ticket(self, credentials: Credentials | None, key: str) -> TicketData:
        if credentials is None:
            raise Rejected("Jira tickets are read with a linked user's credentials")
        issue = await self._call(
            "GET", f"/issue/{key}", credentials, f"read issue {key}", params={"fields": TICKET_FIELDS}
        )
        return _ticket(issue)

    async def search_tickets(self, credentials: Credentials, text: str, limit: int) -> list[TicketData]:
        """A key is fetched (JQL refuses `key = X-1` for an unknown key); the summary by Jira's text search."""
        found: list[TicketData] = []
        key = text.strip().upper()
        if ISSUE_KEY.match(key):
            with contextlib.suppress(NotFound):
                found.append(await self.fetch_ticket(credentials, key))
        words = text.strip().replace("\\", "\\\\").replace('"', '\\"')
        if words and len(found) < limit:
            jql = f'summary ~ "{words}*" ORDER BY updated DESC'
            async for issue in self.search_issues(credentials, jql, page_size=limit):
                if issue.get("key") != key:
                    found.append(_ticket(issue))
                if len(found) >= limit:
                    break  # before the next page is asked for
        return found

    async def search_issues(
        self,
        credentials: Credentials,
        jql: str,
        *,
        fields: str = TICKET_FIELDS,
        page_size: int = 100,
        reconcile: list[str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every issue matching `jql`: Cloud pages with `nextPageToken`, Data Center with `startAt`/`total`.

        On Cloud, `reconcile` names up to 50 issue ids the search must judge as they are now, not as its index
        last saw them (`reconcileIssues`, Atlassian's "search and reconcile")."""
        if self.cloud:
            token: str | None = None
            while True:
                params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
                if reconcile:
                    params["reconcileIssues"] = ",".join(reconcile[:RECONCILE_LIMIT])
                if token:
                    params["nextPageToken"] = token
                page = await self._call("GET", "/search/jql", credentials, "search issues", params=params)
                for issue in page.get("issues", []):
                    yield issue
                token = page.get("nextPageToken")
                if page.get("isLast", True) or not token:
                    return
        start_at = 0
        while True:
            params = {"jql": jql, "fields": fields, "startAt": start_at, "maxResults": page_size}
            page = await self._call("GET", "/search", credentials, "search issues", params=params)
            issues = page.get("issues", [])
            for issue in issues:
                yield issue
            start_at += len(issues)
            if not issues or start_at >= int(page.get("total", 0)):
                return

    # Webhooks --------------------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        secret = self.context.secrets.get("webhook_secret")
        signature = headers.get("x-hub-signature", "")
        if not secret or not signature.startswith("sha256="):
            return False
        return same_secret(signature.removeprefix("sha256="), hmac_sha256_hex(secret, body))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        try:
            payload = msgspec.json.decode(body)
            event = str(payload["webhookEvent"])
        except (msgspec.DecodeError, KeyError, TypeError):
            raise Rejected("not a Jira webhook body") from None
        # Stable across Jira's retries; a body hash for servers that do not send it.
        delivery_id = headers.get("x-atlassian-webhook-identifier") or hashlib.sha256(body).hexdigest()
        events: list[WebhookEvent] = []
        issue = payload.get("issue") or {}
        if event == "jira:issue_deleted" and issue.get("key"):
            events.append(WebhookEvent(kind=WebhookEventKind.TICKET_DELETED, ticket_key=str(issue["key"])))
        elif event.startswith("jira:") and issue.get("key") and _has_summary(issue):
            events.append(WebhookEvent(kind=WebhookEventKind.TICKET_CHANGED, ticket=_ticket(issue)))
        if event.startswith("worklog_"):
            # Worklog-level events: the worklog names its issue by id only; the pull that follows finds the key.
            events.append(self._worklog_event((payload.get("worklog") or {}).get("author")))
        elif payload.get("issue_event_type_name") in ISSUE_WORKLOG_EVENTS:
            # Issue-level events ("jira:worklog_updated", or "jira:issue_updated" on older servers) name the
            # issue, the acting user, and the worklog's id only in the changelog; the pull reads the worklog.
            events.append(self._worklog_event(payload.get("user")))
        return WebhookDelivery(delivery_id=delivery_id, events=events)

    def _worklog_event(self, author: Any) -> WebhookEvent:
        author = author if isinstance(author, dict) else {}
        account = author.get("accountId") if self.cloud else (author.get("key") or author.get("name"))
        return WebhookEvent(kind=WebhookEventKind.WORKLOG_CHANGED, account_id=str(account) if account else None)

    # Plumbing --------------------------------------------------------------------------------------------------

    def _write_params(self) -> dict[str, str]:
        params: dict[str, str] = {"adjustEstimate": self.config.adjust_estimate}
        if self.cloud:
            # Cloud e-mails the issue's watchers about every worklog write unless told not to (the parameter needs
            # no extra permission on worklogs). Data Center has no such parameter: its notification scheme decides.
            params["notifyUsers"] = "false"
        return params | self._expand()

    def _expand(self) -> dict[str, str]:
        # Data Center documents no `expand` on worklog reads or writes (jira.js src/server): none is sent there.
        return {"expand": "properties"} if self.cloud else {}

    def _worklog_body(self, draft: WorklogDraft, credentials: Credentials) -> dict[str, Any]:
        started = started_text(draft.day, draft.start, credentials.timezone)
        if not self.cloud:
            # Data Center's WorklogJsonBean has no `properties`: the marker travels as the comment's tag.
            comment = add_marker(draft.description, draft.marker, max_length=COMMENT_LIMIT)
            return {"started": started, "timeSpentSeconds": draft.minutes * 60, "comment": comment}
        return {
            "started": started,
            "timeSpentSeconds": draft.minutes * 60,
            "comment": text_to_adf(draft.description),
            "properties": [{"key": MARKER_PROPERTY, "value": {"entry": draft.marker}}],
        }

    def _worklog(self, item: dict[str, Any], ticket: str, credentials: Credentials) -> RemoteWorklog:
        day, start = local_day_and_start(str(item["started"]), credentials.timezone)
        return RemoteWorklog(
            id=str(item["id"]),
            ticket=ticket,
            day=day,
            start=start,
            minutes=round(_seconds(item) / 60),
            description=split_marker(adf_to_text(item.get("comment")))[0],
            updated_at=parse_jira_datetime(str(item.get("updated") or item["started"])).astimezone(UTC),
            author_id=self._account_id(item.get("author") or {}) or None,
            marker=_marker(item),
            ticket_id=str(item["issueId"]) if item.get("issueId") else None,
        )

    def _account_id(self, user: dict[str, Any]) -> str:
        value = user.get("accountId") if self.cloud else (user.get("key") or user.get("name"))
        return str(value or "")

    def _is_own(self, item: dict[str, Any], credentials: Credentials) -> bool:
        author = item.get("author") or {}
        if self.cloud:
            return bool(credentials.account_id) and author.get("accountId") == credentials.account_id
        return bool(credentials.account_id) and credentials.account_id in (author.get("key"), author.get("name"))

    def _api_base(self, credentials: Credentials) -> str:
        if not self.cloud:
            return f"{self.context.base_url}/rest/api/2"
        if self.config.mode == "oauth2":
            if not credentials.site_id:
                raise AuthRevoked("this Jira link does not know its Atlassian site; connect again")
            return f"{self.config.api_gateway_url}/ex/jira/{credentials.site_id}/rest/api/3"
        if credentials.site_id:
            # A scoped API token: through the gateway (see `account`).
            return f"{self.config.api_gateway_url}/ex/jira/{credentials.site_id}/rest/api/3"
        return f"{self.context.base_url}/rest/api/3"

    def _auth_headers(self, method: str, url: str, body: bytes, credentials: Credentials) -> dict[str, str]:
        mode = self.config.mode
        if mode == "api_token":
            if not credentials.login:
                raise AuthRevoked("a Jira Cloud API token needs the account's e-mail address (login); connect again")
            basic = base64.b64encode(f"{credentials.login}:{credentials.access_token}".encode()).decode()
            return {"Authorization": f"Basic {basic}"}
        if mode == "oauth1":
            return self.oauth1_consumer().sign(method, url, {}, body, token=credentials.access_token)
        return {"Authorization": f"Bearer {credentials.access_token}"}

    async def _call(
        self,
        method: str,
        path: str,
        credentials: Credentials,
        what: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        url = str(httpx.URL(self._api_base(credentials) + path, params=dict(params or {})))
        content = msgspec.json.encode(json) if json is not None else b""
        headers = {"Accept": "application/json", **self._auth_headers(method, url, content, credentials)}
        if json is not None:
            headers["Content-Type"] = "application/json"
        response = await self._send(method, url, headers, content, what)
        return response.json() if response.content else None

    async def _send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, what: str
    ) -> httpx.Response:
        try:
            response = await self.context.http.request(method, url, headers=headers, content=content)
        except httpx.HTTPError as exc:
            raise Transient(f"{what}: Jira did not answer ({type(exc).__name__})") from None
        if response.status_code == 403:
            raise Rejected(f"{what}: the Jira user may not do this (403): {_reason(response)}")
        if response.status_code == 400:
            raise Rejected(f"{what}: Jira refused it (400): {_reason(response)}")
        if response.is_error:
            raise error_for_response(response, what)
        return response


def _host(url: str) -> tuple[str, int | None]:
    """A site's host and non-default port: the same site whatever the scheme, path or letter case."""
    parts = urlparse(url if "//" in url else f"//{url}")
    port = parts.port if parts.port not in (80, 443) else None
    return (parts.hostname or "").lower(), port


def _ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _since(position: int) -> int:
    return max(0, position - int(OVERLAP.total_seconds() * 1000))


def _next_since(feed: dict[str, Any], since: int) -> int:
    """The `since` of the feed's next page: from its `nextPage` link, else the page's `until`.

    A full page of changes all in one millisecond would name the same `since` again and again; then the read
    moves on by a millisecond rather than loop.
    """
    link = feed.get("nextPage")
    found = parse_qs(urlparse(str(link)).query).get("since") if link else None
    following = int(found[0]) if found else int(feed.get("until", since))
    return following if following > since else since + 1


def _seconds(item: dict[str, Any]) -> int:
    """`timeSpentSeconds`, or for old servers that send only `timeSpent` ("1w 2d 3h 30m") the text read with
    Jira's default working time (a week of 5 days, a day of 8 hours)."""
    if item.get("timeSpentSeconds") is not None:
        return int(item["timeSpentSeconds"])
    total = 0
    for amount, unit in TIME_SPENT.findall(str(item.get("timeSpent") or "")):
        total += int(float(amount) * UNIT_SECONDS[unit])
    return total


def _marker(item: dict[str, Any]) -> str | None:
    """The marker of a worklog: its property (Cloud), else the tag at the end of its comment (Data Center)."""
    for prop in item.get("properties") or []:
        if prop.get("key") == MARKER_PROPERTY and isinstance(prop.get("value"), dict):
            entry = prop["value"].get("entry")
            if entry:
                return str(entry)
    return split_marker(adf_to_text(item.get("comment")))[1]


def _reason(response: httpx.Response) -> str:
    """Jira's error body: `errorMessages` (a list) and `errors` (field -> message), as one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(message) for message in body.get("errorMessages") or []]
    parts += [f"{name}: {message}" for name, message in (body.get("errors") or {}).items()]
    return "; ".join(parts) or str(body)[:300]


def _has_summary(issue: dict[str, Any]) -> bool:
    """Whether a webhook's issue carries its fields; one without them would blank the cached ticket."""
    fields = issue.get("fields")
    return isinstance(fields, dict) and bool(fields.get("summary"))


def _ticket(issue: dict[str, Any]) -> TicketData:
    fields = issue.get("fields") or {}
    updated = fields.get("updated")
    return TicketData(
        key=str(issue["key"]),
        summary=str(fields.get("summary") or ""),
        status=(fields.get("status") or {}).get("name"),
        assignee=(fields.get("assignee") or {}).get("displayName"),
        updated_at=parse_jira_datetime(updated).astimezone(UTC) if updated else None,
        raw={"id": issue.get("id"), "key": issue.get("key"), "fields": fields},
    )
