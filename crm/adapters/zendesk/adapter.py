"""Zendesk Support adapter (Ticketing API v2).

Record types: ``user`` (the caller), ``organization`` and ``ticket`` (the case). Auth is an
OAuth client-credentials token (cached and refreshed by ``TokenManager``) or, until Zendesk
retires them on 2027-04-30, an API token. Search uses the Search API; every result is
checked against what was asked before it is returned (see ``crm.zendesk_query``).

Zendesk has no task or call object, so a timeline activity is either a new ticket requested
by the user (``external_id`` holds the activity key, so it is created once) or an internal
note on an existing ticket (a private comment ending in a key marker).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

import httpx
import phonenumbers

from ...activity_text import activity_marker, format_activity
from ...errors import (
    ConfigError,
    CrmAuthError,
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
    InputError,
)
from ...http import (
    parse_iso_datetime,
    parse_retry_after,
    retry_once_on_401,
    safe_text,
    translate_transport_errors,
)
from ...models import (
    CrmRecord,
    CrmSystem,
    DynamicSearch,
    EmailSearch,
    FieldInfo,
    FieldType,
    FieldValue,
    IdSearch,
    PhoneSearch,
    RecordType,
    SearchQuery,
    TextSearch,
    TimelineActivity,
    TimelineRef,
)
from ...phone import digits_only, phone_variants, stored_number_matches
from ...registry import AdapterContext, register
from ...tokens import TokenManager
from . import query as zq

__all__ = ["ZendeskAdapter", "create_zendesk_adapter", "error_for_response"]

log = logging.getLogger(__name__)

VENDOR = "Zendesk"
API_TOKEN_SUNSET = "2027-04-30"
# Comment bodies are bounded (a 64 KB class limit is quoted); stay below it.
COMMENT_MAX = 65_000
_MAX_SEARCH_PAGES = 10  # Zendesk serves at most 1,000 results (10 pages of 100) per query

USER_STANDARD = (
    "name",
    "email",
    "phone",
    "notes",
    "details",
    "external_id",
    "organization_id",
    "role",
    "time_zone",
    "locale",
    "alias",
)
ORG_STANDARD = ("name", "details", "notes", "external_id", "group_id")
TICKET_STANDARD = (
    "subject",
    "status",
    "priority",
    "type",
    "requester_id",
    "organization_id",
    "external_id",
    "assignee_id",
    "group_id",
    "due_at",
)
_RECORD_TYPES = {
    "user": RecordType(name="user", label="User"),
    "organization": RecordType(name="organization", label="Organization"),
    "ticket": RecordType(name="ticket", label="Ticket"),
}
_STATIC_FIELDS: dict[str, list[FieldInfo]] = {
    "user": [
        FieldInfo(name="name", label="Name", type=FieldType.TEXT, max_length=255, required=True),
        FieldInfo(name="email", label="Email", type=FieldType.EMAIL, max_length=254),
        FieldInfo(name="phone", label="Phone", type=FieldType.PHONE, max_length=255),
        FieldInfo(name="notes", label="Notes", type=FieldType.LONG_TEXT),
        FieldInfo(name="details", label="Details", type=FieldType.LONG_TEXT),
        FieldInfo(name="external_id", label="External ID", type=FieldType.TEXT, max_length=255),
        FieldInfo(name="organization_id", label="Organization", type=FieldType.REFERENCE),
        FieldInfo(
            name="role",
            label="Role",
            type=FieldType.PICKLIST,
            options=["end-user", "agent", "admin"],
        ),
    ],
    "organization": [
        FieldInfo(name="name", label="Name", type=FieldType.TEXT, max_length=255, required=True),
        FieldInfo(name="details", label="Details", type=FieldType.LONG_TEXT),
        FieldInfo(name="notes", label="Notes", type=FieldType.LONG_TEXT),
        FieldInfo(name="external_id", label="External ID", type=FieldType.TEXT, max_length=255),
    ],
    # fields the ticket_fields metadata does not list
    "ticket": [
        FieldInfo(name="requester_id", label="Requester", type=FieldType.REFERENCE),
        FieldInfo(name="organization_id", label="Organization", type=FieldType.REFERENCE),
        FieldInfo(name="external_id", label="External ID", type=FieldType.TEXT, max_length=255),
        FieldInfo(name="tags", label="Tags", type=FieldType.TEXT),
    ],
}
_CUSTOM_TYPES = {
    "text": FieldType.TEXT,
    "textarea": FieldType.LONG_TEXT,
    "checkbox": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "integer": FieldType.NUMBER,
    "decimal": FieldType.NUMBER,
    "regexp": FieldType.TEXT,
    "dropdown": FieldType.PICKLIST,
    "tagger": FieldType.PICKLIST,
    "multiselect": FieldType.PICKLIST,
    "lookup": FieldType.REFERENCE,
    "partialcreditcard": FieldType.TEXT,
}
# ticket_fields system types -> (API name, type)
_TICKET_SYSTEM = {
    "subject": ("subject", FieldType.TEXT),
    "description": ("description", FieldType.LONG_TEXT),
    "status": ("status", FieldType.PICKLIST),
    "tickettype": ("type", FieldType.PICKLIST),
    "priority": ("priority", FieldType.PICKLIST),
    "group": ("group_id", FieldType.REFERENCE),
    "assignee": ("assignee_id", FieldType.REFERENCE),
}


# --- pure helpers ------------------------------------------------------------------------


def vendor_message(response: httpx.Response) -> str:
    """Zendesk's own words from an error body; its error shapes differ per endpoint."""
    try:
        body = response.json()
    except ValueError:
        return safe_text(response.text)
    if not isinstance(body, dict):
        return safe_text(str(body))
    error = body.get("error")
    if isinstance(error, dict):
        return safe_text(f"{error.get('title', '')}: {error.get('message', '')}".strip(": "))
    parts = [str(p) for p in (error, body.get("description"), body.get("error_description")) if p]
    details = body.get("details")
    if isinstance(details, dict):
        for problems in details.values():
            for problem in problems if isinstance(problems, list) else []:
                if isinstance(problem, dict) and problem.get("description"):
                    parts.append(str(problem["description"]))
    return safe_text("; ".join(parts) or response.reason_phrase)


def error_for_response(response: httpx.Response) -> CrmError | None:
    """The project error for a Zendesk reply, ``None`` when it succeeded."""
    status = response.status_code
    if status < 400:
        return None
    info: dict[str, Any] = {"vendor_status": status, "vendor_message": vendor_message(response)}
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        return CrmRateLimitedError("Zendesk is throttling requests", retry_after=wait, **info)
    if status == 401:
        return CrmAuthError("Zendesk refused the credentials", **info)
    if status == 403:
        return CrmRejectedError("Zendesk denied this action to the integration user", **info)
    if status == 404:
        return CrmNotFoundError("Zendesk has no such record", **info)
    if status >= 500:
        return CrmUnavailableError(f"Zendesk answered {status}", **info)
    return CrmRejectedError(f"Zendesk rejected the request ({status})", **info)


def _national_digits(number: str, region: str) -> tuple[str, str | None]:
    """(national significant number, E.164) of an ANI; digits only when unparseable."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return digits_only(number).lstrip("0"), None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return str(parsed.national_number), e164


def _scalar(value: Any) -> FieldValue:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return None
    return value  # type: ignore[no-any-return]


def _as_id(value: FieldValue) -> FieldValue:
    return int(value) if isinstance(value, str) and value.isdigit() else value


# --- the adapter -----------------------------------------------------------------------


class ZendeskAdapter:
    """``CrmAdapter`` for Zendesk Support."""

    def __init__(self, context: AdapterContext) -> None:
        settings = context.settings
        subdomain = str(settings.get("subdomain") or "")
        if not subdomain and not settings.get("api_base"):
            raise ConfigError("Zendesk needs a subdomain", field="subdomain")
        host = f"https://{subdomain}.zendesk.com"
        self._api = str(settings.get("api_base") or f"{host}/api/v2").rstrip("/")
        self._token_url = str(settings.get("token_url") or f"{host}/oauth/tokens")
        self._ui = str(settings.get("agent_url") or host).rstrip("/")
        self._http = context.http
        self._region = context.default_phone_region
        self._phone_fields = ["phone", *settings.get("phone_fields", [])]
        self._ticket_status = settings.get("timeline_ticket_status")
        self._system = CrmSystem(type="zendesk", label=context.label, base_url=self._ui)
        self._secrets = context.secrets
        self._settings = settings
        self._basic: str | None = None
        self._field_names: dict[str, set[str]] = {}
        self._tokens: TokenManager | None = None
        auth = settings.get("auth", "oauth_client_credentials")
        if auth == "api_token":
            self._basic = self._basic_credentials()
            log.warning(
                "Zendesk configuration %s uses an API token; Zendesk stops accepting API "
                "tokens on %s: switch to OAuth client credentials",
                context.configuration_id,
                API_TOKEN_SUNSET,
            )
        elif auth == "oauth_client_credentials":
            for name in ("client_id", "client_secret"):
                if not self._secrets.get(name):
                    raise ConfigError(f"Zendesk OAuth needs the secret {name}", field=name)
            self._tokens = TokenManager(
                self._mint_token, on_refresh=context.extra.get("on_token_refresh")
            )
        else:
            raise ConfigError(f"Unknown Zendesk auth {auth!r}", field="auth")

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- auth and transport ----------------------------------------------------------

    def _basic_credentials(self) -> str:
        email, token = self._settings.get("email"), self._secrets.get("api_token")
        if not email or not token:
            raise ConfigError("Zendesk API-token auth needs email and api_token", field="email")
        raw = f"{email}/token:{token}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        body: dict[str, Any] = {
            "grant_type": "client_credentials",
            "client_id": self._secrets["client_id"],
            "client_secret": self._secrets["client_secret"],
            "scope": self._settings.get("scope", "read write"),
        }
        if self._settings.get("token_expires_in"):
            body["expires_in"] = int(self._settings["token_expires_in"])
        async with translate_transport_errors(VENDOR):
            response = await self._http.post(self._token_url, json=body)
        if response.status_code in (400, 401, 403):
            raise CrmAuthError(
                "Zendesk did not issue an access token",
                vendor_status=response.status_code,
                vendor_message=vendor_message(response),
            )
        error = error_for_response(response)
        if error is not None:
            raise error
        data = response.json()
        expires = data.get("expires_in")
        return str(data["access_token"]), float(expires) if expires else None, None

    async def _authorization(self) -> str:
        if self._tokens is None:
            assert self._basic is not None
            return self._basic
        self._tokens.start()
        return "Bearer " + (await self._tokens.get()).value

    async def _call(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        """One API call; on a 401 with an OAuth token, mint a new token and retry once."""

        async def send() -> tuple[httpx.Response, str | None]:
            authorization = await self._authorization()
            async with translate_transport_errors(VENDOR):
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={"Authorization": authorization, "Accept": "application/json"},
                )
            token = authorization.removeprefix("Bearer ") if self._tokens is not None else None
            return response, token

        response = await retry_once_on_401(send, self._invalidate)
        error = error_for_response(response)
        if error is not None:
            raise error
        return response.json() if response.content else {}

    async def _invalidate(self, token: str) -> None:
        assert self._tokens is not None
        await self._tokens.invalidate(token)

    def _url(self, path: str) -> str:
        return f"{self._api}/{path.lstrip('/')}"

    # --- records -----------------------------------------------------------------------

    def _record(self, kind: str, data: Mapping[str, Any]) -> CrmRecord:
        record_id = str(data.get("id"))
        fields: dict[str, FieldValue] = {}
        parents: dict[str, str] = {}
        if kind == "ticket":
            title = str(data.get("subject") or f"Ticket {record_id}")
            for name in (*TICKET_STANDARD, "description", "tags"):
                fields[name] = _scalar(data.get(name))
            for custom in data.get("custom_fields") or []:
                fields[f"custom_field_{custom.get('id')}"] = _scalar(custom.get("value"))
            if data.get("requester_id"):
                parents["user"] = str(data["requester_id"])
        else:
            title = str(data.get("name") or record_id)
            names = USER_STANDARD if kind == "user" else (*ORG_STANDARD, "domain_names")
            for name in names:
                fields[name] = _scalar(data.get(name))
            extra = data.get("user_fields" if kind == "user" else "organization_fields") or {}
            for name, value in extra.items():
                fields.setdefault(name, _scalar(value))
        if data.get("organization_id") and kind != "organization":
            parents["organization"] = str(data["organization_id"])
        return CrmRecord(
            type=kind,
            id=record_id,
            title=title,
            url=self.record_url(kind, record_id),
            fields=fields,
            updated_at=parse_iso_datetime(data.get("updated_at")),
            parent_ids=parents,
        )

    @staticmethod
    def _payload(kind: str, fields: Mapping[str, FieldValue]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if kind == "ticket":
            custom: list[dict[str, Any]] = []
            for name, value in fields.items():
                if name in ("description", "comment"):
                    # a ticket's description is its first comment; later ones are notes
                    body["comment"] = {"body": value, "public": False}
                elif name == "tags":
                    body["tags"] = str(value or "").split()
                elif name.startswith("custom_field_"):
                    custom.append(
                        {"id": _as_id(name.removeprefix("custom_field_")), "value": value}
                    )
                elif name in TICKET_STANDARD:
                    body[name] = _as_id(value) if name.endswith("_id") else value
                else:
                    raise InputError(f"Unknown ticket field {name!r}", field=name)
            if custom:
                body["custom_fields"] = custom
            return body
        standard = USER_STANDARD if kind == "user" else ORG_STANDARD
        extra_key = "user_fields" if kind == "user" else "organization_fields"
        for name, value in fields.items():
            if name in standard:
                body[name] = (
                    _as_id(value) if name.endswith("_id") and name != "external_id" else value
                )
            else:
                body.setdefault(extra_key, {})[name] = value
        return body

    def _path(self, record_type: str) -> str:
        if record_type not in _RECORD_TYPES:
            raise CrmRejectedError(f"Zendesk has no record type {record_type!r}")
        return f"{record_type}s"

    @staticmethod
    def _check_id(record_id: str) -> str:
        if not record_id.isdigit():
            raise CrmNotFoundError("Zendesk ids are numbers")
        return record_id

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        path = self._path(record_type)
        data = await self._call("GET", self._url(f"{path}/{self._check_id(record_id)}"))
        return self._record(record_type, data[record_type])

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        path = self._path(record_type)
        body = {record_type: self._payload(record_type, fields)}
        data = await self._call("POST", self._url(path), json=body)
        return self._record(record_type, data[record_type])

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        path = self._path(record_type)
        body = {record_type: self._payload(record_type, fields)}
        url = self._url(f"{path}/{self._check_id(record_id)}")
        data = await self._call("PUT", url, json=body)
        return self._record(record_type, data[record_type])

    # --- search ------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            try:
                return [await self.get(query.record_type, query.id)]
            except CrmNotFoundError:
                return []
        try:
            if isinstance(query, PhoneSearch):
                return await self._search_phone(query)
            if isinstance(query, EmailSearch):
                return await self._search_filtered(
                    [zq.email_query(query.email)],
                    query.limit,
                    lambda r: zq.matches_email(_str(r.fields.get("email")), query.email),
                    allowed=query.record_types,
                    kind="user",
                )
            if isinstance(query, TextSearch):
                return await self._search_text(query)
            assert isinstance(query, DynamicSearch)
            await self._check_fields(query)
            return await self._search_dynamic(query)
        except InputError:
            # nothing searchable is left in the value: it cannot match any record
            return []

    async def _check_fields(self, query: DynamicSearch) -> None:
        """Only fields the record type has may be searched (CrmRejectedError otherwise)."""
        known = self._field_names.get(query.record_type)
        if known is None:
            known = {f.name for f in await self.list_fields(query.record_type)}
            self._field_names[query.record_type] = known
        unknown = [c.field for c in query.conditions if c.field not in known]
        if unknown:
            raise CrmRejectedError(f"Zendesk {query.record_type} has no field {unknown[0]!r}")

    async def _search_phone(self, query: PhoneSearch) -> list[CrmRecord]:
        if query.record_types and "user" not in query.record_types:
            return []
        national, e164 = _national_digits(query.number, self._region)
        if len(national) < 5:
            return []  # a suffix this short would match unrelated numbers
        forms = phone_variants(query.number, self._region)

        def same(record: CrmRecord) -> bool:
            return any(
                stored_number_matches(str(record.fields.get(f) or ""), forms, self._region)
                for f in self._phone_fields
                if record.fields.get(f)
            )

        queries = [zq.phone_query(national, field) for field in self._phone_fields]
        return await self._search_filtered(queries, query.limit, same)

    async def _search_text(self, query: TextSearch) -> list[CrmRecord]:
        results: list[CrmRecord] = []
        for kind in query.record_types or ["user"]:
            if kind not in _RECORD_TYPES:
                continue
            title_field = "subject" if kind == "ticket" else "name"
            results += await self._search_filtered(
                [zq.text_query(kind, query.text)],
                query.limit - len(results),
                lambda r, f=title_field: zq.matches_text(_str(r.fields.get(f)), query.text),
            )
            if len(results) >= query.limit:
                break
        return results[: query.limit]

    async def _search_dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        self._path(query.record_type)
        queries = zq.dynamic_queries(query.record_type, query.conditions, query.join)

        def holds(record: CrmRecord) -> bool:
            # re-check conditions on fields the record carries: search matches words,
            # the workflow asked for equality
            checks = []
            for cond in query.conditions:
                if cond.field not in record.fields:
                    continue  # a search-only keyword (tags, requester, ...): trust Zendesk
                equal = _str(record.fields[cond.field]).casefold() == cond.value.casefold()
                checks.append(equal if cond.operator == "equals" else not equal)
            if not checks:
                return True
            return all(checks) if query.join == "and" else any(checks)

        return await self._search_filtered(queries, query.limit, holds)

    async def _search_filtered(
        self,
        queries: list[str],
        limit: int,
        keep: Any,
        *,
        allowed: list[str] | None = None,
        kind: str | None = None,
    ) -> list[CrmRecord]:
        """Run each query, follow ``next_page``, keep matching records, merge by id."""
        if allowed and kind and kind not in allowed:
            return []
        found: dict[tuple[str, str], CrmRecord] = {}
        for text in queries:
            url: str | None = self._url("search")
            params: dict[str, Any] | None = {"query": text, "per_page": min(100, max(limit, 1))}
            for _ in range(_MAX_SEARCH_PAGES):
                if url is None or len(found) >= limit:
                    break
                data = await self._call("GET", url, params=params)
                for item in data.get("results") or []:
                    result_type = item.get("result_type")
                    if result_type not in _RECORD_TYPES:
                        continue
                    record = self._record(result_type, item)
                    if keep(record):
                        found.setdefault((record.type, record.id), record)
                url, params = data.get("next_page"), None
        return list(found.values())[:limit]

    # --- related -----------------------------------------------------------------------

    async def _list(self, path: str, key: str, kind: str, limit: int) -> list[CrmRecord]:
        """A cursor-paged list (``page[size]``, ``meta.has_more``, ``links.next``)."""
        records: list[CrmRecord] = []
        url: str | None = self._url(path)
        params: dict[str, Any] | None = {"page[size]": min(100, max(limit, 1))}
        while url and len(records) < limit:
            data = await self._call("GET", url, params=params)
            records += [self._record(kind, item) for item in data.get(key) or []]
            has_more = (data.get("meta") or {}).get("has_more")
            url = (data.get("links") or {}).get("next") if has_more else None
            params = None
        return records[:limit]

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        related: list[CrmRecord] = []
        if record.type == "user":
            related += await self._list(
                f"users/{record.id}/tickets/requested", "tickets", "ticket", limit
            )
        org = record.id if record.type == "organization" else record.parent_ids.get("organization")
        if org and len(related) < limit:
            people = await self._list(
                f"organizations/{org}/users", "users", "user", limit - len(related) + 1
            )
            related += [p for p in people if p.id != record.id]
        if record.type == "ticket" and record.parent_ids.get("user"):
            try:
                related.insert(0, await self.get("user", record.parent_ids["user"]))
            except CrmNotFoundError:
                pass
        return related[:limit]

    # --- timeline ----------------------------------------------------------------------

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        if activity.record_type == "ticket":
            return await self._add_ticket_note(activity)
        if activity.record_type not in ("user", "organization"):
            raise CrmRejectedError(f"Zendesk cannot link an activity to {activity.record_type}")
        existing = await self._call(
            "GET", self._url("tickets"), params={"external_id": activity.key}
        )
        for found in existing.get("tickets") or []:
            return TimelineRef(id=str(found["id"]), type="ticket", created=False)
        ticket: dict[str, Any] = {
            "subject": activity.subject[:255],
            "external_id": activity.key,
            "comment": {"body": format_activity(activity, COMMENT_MAX), "public": False},
            "tags": ["customer_card", activity.channel],
        }
        owner = self._check_id(activity.record_id)
        ticket["requester_id" if activity.record_type == "user" else "organization_id"] = int(owner)
        if self._ticket_status:
            ticket["status"] = self._ticket_status
        data = await self._call("POST", self._url("tickets"), json={"ticket": ticket})
        return TimelineRef(id=str(data["ticket"]["id"]), type="ticket")

    async def _add_ticket_note(self, activity: TimelineActivity) -> TimelineRef:
        ticket_id = self._check_id(activity.record_id)
        marker = activity_marker(activity.key)
        url: str | None = self._url(f"tickets/{ticket_id}/comments")
        params: dict[str, Any] | None = {"page[size]": 100}
        while url:
            data = await self._call("GET", url, params=params)
            for comment in data.get("comments") or []:
                if marker in str(comment.get("body") or ""):
                    return TimelineRef(id=str(comment["id"]), type="ticket_comment", created=False)
            has_more = (data.get("meta") or {}).get("has_more")
            url, params = ((data.get("links") or {}).get("next") if has_more else None), None
        note = {"body": format_activity(activity, COMMENT_MAX), "public": False}
        body = {"ticket": {"comment": note}}
        data = await self._call("PUT", self._url(f"tickets/{ticket_id}"), json=body)
        events = (data.get("audit") or {}).get("events") or []
        comment_ids = [str(e["id"]) for e in events if e.get("type") == "Comment"]
        return TimelineRef(id=comment_ids[0] if comment_ids else ticket_id, type="ticket_comment")

    # --- metadata ----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        return list(_RECORD_TYPES.values())

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        self._path(record_type)
        if record_type == "ticket":
            data = await self._call("GET", self._url("ticket_fields"))
            fields = [_ticket_field(f) for f in data.get("ticket_fields") or [] if f.get("active")]
            return [*fields, *_STATIC_FIELDS["ticket"]]
        key = f"{record_type}_fields"
        data = await self._call("GET", self._url(key))
        custom = [_custom_field(f) for f in data.get(key) or [] if f.get("active", True)]
        return [*_STATIC_FIELDS[record_type], *custom]

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._ui}/agent/{record_type}s/{record_id}"

    async def check(self) -> None:
        data = await self._call("GET", self._url("users/me"))
        if not (data.get("user") or {}).get("id"):
            raise CrmAuthError("Zendesk treated the integration as an anonymous user")

    async def aclose(self) -> None:
        # the httpx client belongs to the caller and is shared by every adapter
        if self._tokens is not None:
            await self._tokens.aclose()


def _str(value: FieldValue) -> str:
    return "" if value is None else str(value)


def _options(field: Mapping[str, Any]) -> list[str]:
    return [
        str(o.get("value")) for o in field.get("custom_field_options") or [] if isinstance(o, dict)
    ]


def _custom_field(field: Mapping[str, Any]) -> FieldInfo:
    kind = _CUSTOM_TYPES.get(str(field.get("type")), FieldType.OTHER)
    return FieldInfo(
        name=str(field.get("key")),
        label=str(field.get("title") or field.get("key")),
        type=kind,
        max_length=255 if kind == FieldType.TEXT else None,
        custom=True,
        options=_options(field),
    )


def _ticket_field(field: Mapping[str, Any]) -> FieldInfo:
    system = _TICKET_SYSTEM.get(str(field.get("type")))
    label = str(field.get("title") or field.get("type"))
    if system is not None:
        name, kind = system
        options = [str(o.get("value")) for o in field.get("system_field_options") or []]
        return FieldInfo(
            name=name,
            label=label,
            type=kind,
            options=options,
            max_length=COMMENT_MAX
            if name == "description"
            else (255 if kind == FieldType.TEXT else None),
            required=name in ("subject", "description"),
            updateable=name != "description",
        )
    info = _custom_field({**field, "key": f"custom_field_{field.get('id')}"})
    info.label = label
    return info


@register("zendesk")
def create_zendesk_adapter(context: AdapterContext) -> ZendeskAdapter:
    return ZendeskAdapter(context)
