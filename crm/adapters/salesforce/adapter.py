"""Salesforce adapter: REST API (SOQL, SOSL, sObject rows, describe) over ``httpx``.

Auth is OAuth 2.0 client credentials or JWT bearer; the token answer carries no lifetime, so
the token is cached until Salesforce answers ``401 INVALID_SESSION_ID``, then minted again
once and the call retried. Queries are built by the pure functions in
``crm.salesforce_query``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from ...errors import (
    ConfigError,
    CrmAuthError,
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
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
from ...phone import phone_variants, stored_number_matches
from ...registry import AdapterContext, register
from ...tokens import TokenManager
from .query import (
    ReturningSpec,
    build_dynamic_where,
    build_phone_sosl,
    build_select,
    build_where_equals,
    build_where_like,
    check_api_name,
    quote_soql_value,
    sosl_phone_terms,
)

__all__ = ["SalesforceAdapter", "SalesforceSettings", "task_payload", "translate_error"]

log = logging.getLogger(__name__)

VENDOR = "Salesforce"
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
# Key prefixes of the standard objects a polymorphic reference (WhoId, WhatId) may point at.
_ID_PREFIXES = {
    "001": "Account",
    "003": "Contact",
    "00Q": "Lead",
    "500": "Case",
    "006": "Opportunity",
}
# Reference fields that say who touched a record, not what it belongs to.
_SYSTEM_REFERENCES = {
    "OwnerId",
    "CreatedById",
    "LastModifiedById",
    "MasterRecordId",
    "RecordTypeId",
    "ReportsToId",
    "IndividualId",
}
# Describe types whose values are not scalars (compound fields) or are binary.
_SKIPPED_TYPES = {"address", "location", "base64", "complexvalue"}
# Standard objects that accept activities (a Task's WhoId or WhatId).
_ACTIVITY_TARGETS = {
    "Contact",
    "Lead",
    "Account",
    "Case",
    "Opportunity",
    "Campaign",
    "Contract",
    "Asset",
}
_FIELD_TYPES = {
    "string": FieldType.TEXT,
    "phone": FieldType.PHONE,
    "email": FieldType.EMAIL,
    "url": FieldType.URL,
    "int": FieldType.NUMBER,
    "double": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "long": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "picklist": FieldType.PICKLIST,
    "multipicklist": FieldType.PICKLIST,
    "combobox": FieldType.PICKLIST,
    "reference": FieldType.REFERENCE,
    "id": FieldType.REFERENCE,
}
_SHORT_TEXT = 255  # a textarea up to this length is a single-line field on the card
TASK_SUBJECT_MAX = 255
TASK_DESCRIPTION_MAX = 32_000
CALL_FIELD_MAX = 255


@dataclass(frozen=True)
class SalesforceSettings:
    """A configuration's Salesforce settings and secrets, checked once."""

    client_id: str
    auth: str = "client_credentials"
    login_url: str = "https://login.salesforce.com"
    token_url: str = ""
    instance_url: str = ""  # overrides the token answer's instance_url
    lightning_url: str = ""  # overrides the derived https://{domain}.lightning.force.com
    username: str = ""  # JWT bearer: the integration user (sub)
    jwt_audience: str = ""
    api_version: str = "62.0"
    caller_record_types: tuple[str, ...] = ("Contact", "Lead")
    timeline_key_field: str = "CallObject"
    client_secret: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)

    @classmethod
    def from_context(cls, context: AdapterContext) -> SalesforceSettings:
        s, secrets = context.settings, context.secrets
        auth = str(s.get("auth") or "client_credentials")
        settings = cls(
            client_id=str(s.get("client_id") or ""),
            auth=auth,
            login_url=str(s.get("login_url") or cls.login_url).rstrip("/"),
            token_url=str(s.get("token_url") or ""),
            instance_url=str(s.get("instance_url") or "").rstrip("/"),
            lightning_url=str(s.get("lightning_url") or "").rstrip("/"),
            username=str(s.get("username") or ""),
            jwt_audience=str(s.get("jwt_audience") or ""),
            api_version=str(s.get("api_version") or cls.api_version).lstrip("v"),
            caller_record_types=tuple(s.get("caller_record_types") or cls.caller_record_types),
            timeline_key_field=str(s.get("timeline_key_field") or cls.timeline_key_field),
            client_secret=secrets.get("client_secret", ""),
            private_key=secrets.get("private_key", ""),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.client_id:
            raise ConfigError("Salesforce needs a client_id (consumer key)", field="client_id")
        if self.auth == "client_credentials":
            if not self.client_secret:
                raise ConfigError(
                    "Salesforce client credentials need the client_secret secret",
                    field="client_secret",
                )
        elif self.auth == "jwt_bearer":
            if not self.private_key or not self.username:
                raise ConfigError(
                    "Salesforce JWT bearer needs username and the private_key secret",
                    field="private_key" if self.username else "username",
                )
        else:
            raise ConfigError(f"Unknown Salesforce auth {self.auth!r}", field="auth")
        if not re.fullmatch(r"\d{2,3}\.0", self.api_version):
            raise ConfigError("api_version looks like 62.0", field="api_version")
        names = [*self.caller_record_types, self.timeline_key_field]
        try:
            for name in names:
                check_api_name(name)
        except CrmRejectedError as exc:
            raise ConfigError(exc.detail, field="caller_record_types") from exc

    @property
    def effective_token_url(self) -> str:
        return self.token_url or f"{self.login_url}/services/oauth2/token"

    @property
    def effective_audience(self) -> str:
        if self.jwt_audience:
            return self.jwt_audience
        host = urlsplit(self.login_url).hostname or ""
        sandbox = host == "test.salesforce.com" or ".sandbox." in host
        return "https://test.salesforce.com" if sandbox else "https://login.salesforce.com"


# --- pure translation helpers ---------------------------------------------------------


def translate_error(status: int, body: Any, headers: Mapping[str, str]) -> CrmError:
    """A Salesforce error reply as the project's error type (vendor words kept apart)."""
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    if isinstance(body, dict):  # the OAuth endpoints' shape
        first = {"errorCode": body.get("error", ""), "message": body.get("error_description", "")}
    code = str(first.get("errorCode") or "")
    message = safe_text(str(first.get("message") or ""))
    fields = first.get("fields") or []
    kwargs: dict[str, Any] = {"vendor_status": status, "vendor_message": message or None}
    if fields:
        kwargs["field"] = str(fields[0])
    detail = f"{VENDOR} answered {status}" + (f" {code}" if code else "")
    if status == 401:
        return CrmAuthError(f"{VENDOR} refused the session ({code or status})", **kwargs)
    if code == "REQUEST_LIMIT_EXCEEDED" or status == 429:
        # Salesforce sends no Retry-After for its API allowance; keep one if a proxy adds it.
        return CrmRateLimitedError(
            f"{VENDOR} API request limit exceeded",
            retry_after=parse_retry_after(headers.get("retry-after")),
            **kwargs,
        )
    if status == 404:
        return CrmNotFoundError(detail, **kwargs)
    if status >= 500:
        return CrmUnavailableError(detail, **kwargs)
    return CrmRejectedError(detail + (f": {message}" if message else ""), **kwargs)


def _timeline_key(key: str) -> str:
    # CallObject holds 255 characters; longer keys are hashed so they stay unique.
    if len(key) <= CALL_FIELD_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _description(activity: TimelineActivity) -> str:
    lines = [activity.notes or ""]
    details = [
        ("Direction", activity.direction),
        ("Channel", activity.channel),
        ("Phone", activity.phone_number),
        ("Agent", activity.agent_name),
        ("Disposition", activity.disposition),
        ("Started", activity.started_at.isoformat() if activity.started_at else None),
        ("Ended", activity.ended_at.isoformat() if activity.ended_at else None),
    ]
    extra = "\n".join(f"{label}: {value}" for label, value in details if value)
    text = "\n\n".join(part for part in (lines[0].strip(), extra) if part)
    return text[:TASK_DESCRIPTION_MAX]


def task_payload(activity: TimelineActivity, key_field: str = "CallObject") -> dict[str, Any]:
    """The Task body for an activity: linked by WhoId (person) or WhatId (anything else),
    with the idempotency key in ``key_field`` (CallObject unless configured)."""
    payload: dict[str, Any] = {
        "Subject": activity.subject[:TASK_SUBJECT_MAX],
        "Status": "Completed",
        "Priority": "Normal",
        "Description": _description(activity),
        "TaskSubtype": "Call" if activity.channel == "voice" else "Task",
        key_field: _timeline_key(activity.key),
    }
    link = "WhoId" if activity.record_type in ("Contact", "Lead") else "WhatId"
    payload[link] = activity.record_id
    if activity.started_at:
        payload["ActivityDate"] = activity.started_at.date().isoformat()
    if activity.channel == "voice":
        if activity.direction:
            payload["CallType"] = activity.direction.capitalize()
        if activity.duration_seconds is not None:
            payload["CallDurationInSeconds"] = int(activity.duration_seconds)
        if activity.disposition:
            payload["CallDisposition"] = activity.disposition[:CALL_FIELD_MAX]
    return payload


def _field_info(raw: Mapping[str, Any]) -> FieldInfo:
    kind = str(raw.get("type") or "")
    length = int(raw.get("length") or 0) or None
    if kind == "textarea":
        field_type = FieldType.LONG_TEXT if (length or 0) > _SHORT_TEXT else FieldType.TEXT
    else:
        field_type = _FIELD_TYPES.get(kind, FieldType.OTHER)
    createable = bool(raw.get("createable"))
    return FieldInfo(
        name=str(raw["name"]),
        label=str(raw.get("label") or raw["name"]),
        type=field_type,
        max_length=length
        if field_type
        in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE, FieldType.EMAIL, FieldType.URL)
        else None,
        required=createable
        and not raw.get("nillable", True)
        and not raw.get("defaultedOnCreate", False),
        createable=createable,
        updateable=bool(raw.get("updateable")),
        custom=bool(raw.get("custom")),
        options=[
            str(v.get("value")) for v in raw.get("picklistValues") or [] if v.get("active", True)
        ],
    )


@register("salesforce")
def create_salesforce_adapter(context: AdapterContext) -> SalesforceAdapter:
    """Registry factory: a Salesforce adapter for one configuration."""
    return SalesforceAdapter(context)


class SalesforceAdapter:
    """``CrmAdapter`` for Salesforce (REST API, configurable version)."""

    def __init__(self, context: AdapterContext) -> None:
        self._settings = SalesforceSettings.from_context(context)
        self._http = context.http
        self._label = context.label
        self._region = context.default_phone_region
        self._tokens = TokenManager(
            self._mint_token, on_refresh=context.extra.get("on_token_refresh")
        )
        self._describes: dict[str, dict[str, Any]] = {}
        self._timeline_lock = asyncio.Lock()
        self._warmup: asyncio.Task[None] | None = None
        self._start_background()

    # --- protocol: identity and links ----------------------------------------------

    @property
    def system(self) -> CrmSystem:
        return CrmSystem(type="salesforce", label=self._label, base_url=self._ui_base())

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._ui_base()}/lightning/r/{record_type}/{record_id}/view"

    def _instance_url(self) -> str:
        token = self._tokens.current
        from_token = (token.extra or {}).get("instance_url", "") if token else ""
        return self._settings.instance_url or from_token or self._settings.login_url

    def _ui_base(self) -> str:
        if self._settings.lightning_url:
            return self._settings.lightning_url
        parts = urlsplit(self._instance_url())
        host = parts.hostname or ""
        if host.endswith(".my.salesforce.com"):
            host = host.removesuffix(".my.salesforce.com") + ".lightning.force.com"
            return f"https://{host}"
        return self._instance_url()

    # --- tokens -----------------------------------------------------------------------

    def _start_background(self) -> None:
        """Mint the first token now, then keep it fresh ahead of expiry."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # built outside a loop (a script): the first call mints instead
        if self._warmup is None:
            self._warmup = asyncio.create_task(self._warm_up(), name="salesforce-token-warmup")

    async def _warm_up(self) -> None:
        try:
            await self._tokens.get()
        except CrmError as exc:
            log.warning("Salesforce token warm-up failed: %s", exc.detail)
        except Exception as exc:  # never let a background task die unobserved
            log.warning("Salesforce token warm-up failed: %s", type(exc).__name__)
        finally:
            # started after the first mint, so the refresher schedules from a known expiry
            self._tokens.start()

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        s = self._settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
        }
        if s.auth == "jwt_bearer":
            claims = {
                "iss": s.client_id,
                "sub": s.username,
                "aud": s.effective_audience,
                "exp": int(time.time()) + 180,
            }
            try:
                assertion = jwt.encode(claims, s.private_key, algorithm="RS256")
            except (ValueError, TypeError) as exc:
                raise CrmAuthError("The Salesforce private key could not sign the JWT") from exc
            form = {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            }
        async with translate_transport_errors(VENDOR):
            response = await self._http.post(
                s.effective_token_url, data=form, headers={"Accept": "application/json"}
            )
        body = _json(response)
        if response.status_code >= 500:
            raise translate_error(response.status_code, body, response.headers)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise CrmAuthError(
                f"{VENDOR} token request refused ({error or response.status_code})",
                vendor_status=response.status_code,
                vendor_message=safe_text(str(body.get("error_description", "")))
                if isinstance(body, dict)
                else None,
            )
        return str(body["access_token"]), None, {"instance_url": str(body.get("instance_url", ""))}

    # --- HTTP -------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):  # nextRecordsUrl and friends are host-relative
            return self._instance_url() + path
        return f"{self._instance_url()}/services/data/v{self._settings.api_version}/{path}"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        self._start_background()

        async def send() -> tuple[httpx.Response, str]:
            token = await self._tokens.get()
            headers = {"Authorization": f"Bearer {token.value}", "Accept": "application/json"}
            async with translate_transport_errors(VENDOR):
                response = await self._http.request(
                    method, self._url(path), params=params, json=json, headers=headers
                )
            return response, token.value

        # INVALID_SESSION_ID: the session timed out; mint once and retry.
        response = await retry_once_on_401(send, self._tokens.invalidate)
        if response.status_code >= 300:
            raise translate_error(response.status_code, _json(response), response.headers)
        return response

    async def _get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return _json(await self._request("GET", path, params=params))

    async def _query(self, soql: str, limit: int) -> list[dict[str, Any]]:
        """Rows of a SOQL query, following ``nextRecordsUrl`` until ``limit`` rows."""
        body = await self._get_json("query", {"q": soql})
        rows = list(body.get("records") or [])
        while len(rows) < limit and not body.get("done", True) and body.get("nextRecordsUrl"):
            body = await self._get_json(str(body["nextRecordsUrl"]))
            rows.extend(body.get("records") or [])
        return rows[:limit]

    # --- metadata ---------------------------------------------------------------------

    async def _describe(self, sobject: str) -> dict[str, Any]:
        check_api_name(sobject, what="record_type")
        if sobject not in self._describes:
            self._describes[sobject] = await self._get_json(f"sobjects/{sobject}/describe/")
        return self._describes[sobject]

    async def _select_fields(self, sobject: str) -> tuple[str, ...]:
        describe = await self._describe(sobject)
        names = [
            f["name"] for f in describe.get("fields", []) if f.get("type") not in _SKIPPED_TYPES
        ]
        return tuple(names[:200]) or ("Id",)

    async def _fields_of_type(self, sobject: str, kind: str) -> list[str]:
        describe = await self._describe(sobject)
        return [f["name"] for f in describe.get("fields", []) if f.get("type") == kind]

    async def _name_fields(self, sobject: str) -> list[str]:
        describe = await self._describe(sobject)
        fields = describe.get("fields", [])
        names = [f["name"] for f in fields if f.get("nameField")]
        if any(f["name"] == "Subject" for f in fields):
            names.append("Subject")  # Case, Task: the subject is what people search by
        return names

    async def list_record_types(self) -> list[RecordType]:
        body = await self._get_json("sobjects/")
        return [
            RecordType(
                name=o["name"],
                label=o.get("label") or o["name"],
                standard=not o.get("custom"),
                createable=bool(o.get("createable")),
                searchable=bool(o.get("searchable")),
                supports_timeline=o["name"] in _ACTIVITY_TARGETS or bool(o.get("custom")),
            )
            for o in body.get("sobjects", [])
            if o.get("queryable") and o.get("layoutable") and not o.get("deprecatedAndHidden")
        ]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        describe = await self._describe(record_type)
        return [_field_info(f) for f in describe.get("fields", [])]

    # --- records ----------------------------------------------------------------------

    async def _to_record(self, sobject: str, raw: Mapping[str, Any]) -> CrmRecord:
        describe = await self._describe(sobject)
        kinds = {f["name"]: f for f in describe.get("fields", [])}
        fields: dict[str, FieldValue] = {
            k: v
            for k, v in raw.items()
            if k != "attributes" and (v is None or isinstance(v, str | int | float | bool))
        }
        title_field = (
            "Subject"
            if fields.get("Subject")
            else next((f["name"] for f in kinds.values() if f.get("nameField")), "Id")
        )
        parents: dict[str, str] = {}
        for name, meta in kinds.items():
            value = fields.get(name)
            if meta.get("type") != "reference" or not value or name in _SYSTEM_REFERENCES:
                continue
            targets = meta.get("referenceTo") or []
            kind = targets[0] if len(targets) == 1 else _ID_PREFIXES.get(str(value)[:3])
            if kind and kind not in ("User", "Group"):
                parents[kind] = str(value)
        record_id = str(raw.get("Id") or "")
        return CrmRecord(
            type=sobject,
            id=record_id,
            title=str(fields.get(title_field) or record_id),
            url=self.record_url(sobject, record_id),
            fields=fields,
            updated_at=parse_iso_datetime(raw.get("LastModifiedDate")),
            parent_ids=parents,
        )

    async def _records(self, rows: list[dict[str, Any]]) -> list[CrmRecord]:
        return [await self._to_record(str(r["attributes"]["type"]), r) for r in rows]

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        check_api_name(record_type, what="record_type")
        if not _RECORD_ID.match(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        raw = await self._get_json(f"sobjects/{record_type}/{record_id}")
        return await self._to_record(record_type, raw)

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        check_api_name(record_type, what="record_type")
        body = _json(await self._request("POST", f"sobjects/{record_type}/", json=dict(fields)))
        return await self.get(record_type, str(body["id"]))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        check_api_name(record_type, what="record_type")
        if not _RECORD_ID.match(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        if fields:
            await self._request("PATCH", f"sobjects/{record_type}/{record_id}", json=dict(fields))
        return await self.get(record_type, record_id)

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        queries: list[tuple[str, str]] = []  # (sobject, where)
        account = str(record.fields.get("AccountId") or record.parent_ids.get("Account") or "")
        me = quote_soql_value(record.id)
        if record.type == "Contact":
            if account:
                queries.append(
                    ("Contact", f"AccountId = {quote_soql_value(account)} AND Id != {me}")
                )
            queries.append(("Case", f"ContactId = {me}"))
        elif record.type == "Account":
            queries += [("Contact", f"AccountId = {me}"), ("Case", f"AccountId = {me}")]
        result: list[CrmRecord] = []
        for sobject, where in queries:
            if len(result) >= limit:
                break
            fields = await self._select_fields(sobject)
            soql = build_select(
                sobject, fields, where, limit=limit - len(result), order_by="LastModifiedDate"
            )
            result += await self._records(await self._query(soql, limit - len(result)))
        if record.type == "Case":
            for kind in ("Contact", "Account"):
                if record.parent_ids.get(kind) and len(result) < limit:
                    with contextlib.suppress(CrmNotFoundError):
                        result.append(await self.get(kind, record.parent_ids[kind]))
        return result[:limit]

    # --- search -----------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, PhoneSearch):
            return await self._search_phone(query)
        if isinstance(query, EmailSearch):
            return await self._search_each(
                query.record_types, query.limit, lambda t: self._email_where(t, query.email)
            )
        if isinstance(query, TextSearch):
            return await self._search_each(
                query.record_types, query.limit, lambda t: self._text_where(t, query.text)
            )
        if isinstance(query, IdSearch):
            check_api_name(query.record_type, what="record_type")
            try:
                return [await self.get(query.record_type, query.id.strip())]
            except CrmNotFoundError:
                return []
        if isinstance(query, DynamicSearch):
            where = build_dynamic_where(query.conditions, query.join)
            fields = await self._select_fields(query.record_type)
            soql = build_select(query.record_type, fields, where, limit=query.limit)
            return await self._records(await self._query(soql, query.limit))
        raise AssertionError(f"unknown search {query!r}")

    async def _email_where(self, sobject: str, email: str) -> str | None:
        fields = await self._fields_of_type(sobject, "email")
        return build_where_equals(fields, email.strip()) if fields and email.strip() else None

    async def _text_where(self, sobject: str, text: str) -> str | None:
        fields = await self._name_fields(sobject)
        return build_where_like(fields, text.strip()) if fields and text.strip() else None

    async def _search_each(
        self,
        record_types: list[str] | None,
        limit: int,
        where_for: Callable[[str], Awaitable[str | None]],
    ) -> list[CrmRecord]:
        result: list[CrmRecord] = []
        for sobject in record_types or self._settings.caller_record_types:
            if len(result) >= limit:
                break
            where = await where_for(sobject)
            if where is None:
                continue
            fields = await self._select_fields(sobject)
            soql = build_select(sobject, fields, where, limit=limit - len(result))
            result += await self._records(await self._query(soql, limit - len(result)))
        return result[:limit]

    async def _search_phone(self, query: PhoneSearch) -> list[CrmRecord]:
        variants = phone_variants(query.number, self._region)
        terms = sosl_phone_terms(variants)
        if not terms:
            return []
        sobjects = query.record_types or list(self._settings.caller_record_types)
        specs = [
            ReturningSpec(t, await self._select_fields(t), limit=query.limit) for t in sobjects
        ]
        sosl = build_phone_sosl(terms, specs, limit=query.limit)
        body = await self._get_json("search", {"q": sosl})
        rows = body.get("searchRecords", []) if isinstance(body, dict) else body
        found: list[CrmRecord] = []
        for row in rows:
            sobject = str(row["attributes"]["type"])
            phones = await self._fields_of_type(sobject, "phone")
            # SOSL matches search tokens; keep only rows whose number is the caller's.
            if any(
                stored_number_matches(str(row.get(p) or ""), variants, self._region) for p in phones
            ):
                found.append(await self._to_record(sobject, row))
        return found[: query.limit]

    # --- timeline ---------------------------------------------------------------------

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        check_api_name(activity.record_type, what="record_type")
        key_field = self._settings.timeline_key_field
        key = _timeline_key(activity.key)
        async with self._timeline_lock:  # one check-then-create at a time per adapter
            where = f"{key_field} = {quote_soql_value(key)}"
            existing = await self._query(build_select("Task", ["Id"], where, limit=1), 1)
            if existing:
                return TimelineRef(id=str(existing[0]["Id"]), type="Task", created=False)
            body = _json(
                await self._request(
                    "POST", "sobjects/Task/", json=task_payload(activity, key_field)
                )
            )
            return TimelineRef(id=str(body["id"]), type="Task", created=True)

    # --- lifecycle --------------------------------------------------------------------

    async def check(self) -> None:
        await self._get_json("")  # the version's resource list: proves token, host and version

    async def aclose(self) -> None:
        if self._warmup is not None:
            self._warmup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warmup
            self._warmup = None
        await self._tokens.aclose()


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {"message": safe_text(response.text, 200)}
