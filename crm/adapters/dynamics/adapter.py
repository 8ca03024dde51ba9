"""Dynamics 365 / Dataverse adapter: the Web API (OData v4) over ``httpx``.

Tokens come from Microsoft Entra ID with the client credentials grant through MSAL's
``ConfidentialClientApplication`` (run in a worker thread: MSAL's HTTP calls block), or,
when a ``token_url`` is configured, from a plain form POST to that endpoint. The token's
``expires_in`` drives the background refresh; a ``401`` mints once more and retries.
Filters are built by the pure functions in ``crm.dynamics_query``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import requests

from ...errors import (
    ConfigError,
    CrmAuthError,
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from ...http import parse_retry_after, retry_once_on_401, safe_text, translate_transport_errors
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
    any_of,
    build_dynamic_filter,
    build_phone_filter,
    check_logical_name,
    contains,
    encode_query,
    eq,
    is_guid,
)

__all__ = [
    "DynamicsAdapter",
    "DynamicsSettings",
    "Table",
    "activity_payload",
    "key_marker",
    "translate_error",
]

log = logging.getLogger(__name__)

VENDOR = "Dynamics 365"
_ANNOTATIONS = 'odata.include-annotations="*"'
_LOOKUP_TYPE = "@Microsoft.Dynamics.CRM.lookuplogicalname"
# Lookups that say who owns or touched a row, not what it belongs to.
_SYSTEM_LOOKUPS = {
    "ownerid",
    "owninguser",
    "owningteam",
    "owningbusinessunit",
    "createdby",
    "modifiedby",
    "createdonbehalfby",
    "modifiedonbehalfby",
    "transactioncurrencyid",
    "masterid",
}
# Required columns the platform fills itself.
_DEFAULTED = {"ownerid", "statecode", "statuscode", "transactioncurrencyid"}
_FIELD_PROPERTY = re.compile(r"(?:property (?:named )?|the )'([A-Za-z0-9_]+)'(?: attribute)?")
_TYPES = {
    "Memo": FieldType.LONG_TEXT,
    "Integer": FieldType.NUMBER,
    "BigInt": FieldType.NUMBER,
    "Decimal": FieldType.NUMBER,
    "Double": FieldType.NUMBER,
    "Money": FieldType.NUMBER,
    "Boolean": FieldType.BOOLEAN,
    "DateTime": FieldType.DATETIME,
    "Picklist": FieldType.PICKLIST,
    "State": FieldType.PICKLIST,
    "Status": FieldType.PICKLIST,
    "MultiSelectPicklist": FieldType.PICKLIST,
    "Lookup": FieldType.REFERENCE,
    "Customer": FieldType.REFERENCE,
    "Owner": FieldType.REFERENCE,
}
_STRING_FORMATS = {
    "Email": FieldType.EMAIL,
    "Phone": FieldType.PHONE,
    "Url": FieldType.URL,
    "TextArea": FieldType.LONG_TEXT,
}


@dataclass(frozen=True)
class Table:
    """What the adapter needs to know of a table to address and show its rows."""

    logical_name: str
    entity_set: str
    primary_id: str
    primary_name: str
    phone_fields: tuple[str, ...] = ()
    email_fields: tuple[str, ...] = ()


_PHONES = ("telephone1", "telephone2", "telephone3", "mobilephone")
_EMAILS = ("emailaddress1", "emailaddress2", "emailaddress3")
STANDARD_TABLES = {
    t.logical_name: t
    for t in [
        Table("contact", "contacts", "contactid", "fullname", _PHONES, _EMAILS),
        Table("account", "accounts", "accountid", "name", _PHONES[:3], _EMAILS),
        Table("lead", "leads", "leadid", "fullname", _PHONES, _EMAILS),
        Table("incident", "incidents", "incidentid", "title"),
        Table("task", "tasks", "activityid", "subject"),
        Table("phonecall", "phonecalls", "activityid", "subject"),
    ]
}


@dataclass(frozen=True)
class DynamicsSettings:
    """A configuration's Dataverse settings and secrets, checked once."""

    org_url: str
    client_id: str
    tenant_id: str = ""
    api_base: str = ""
    api_version: str = "9.2"
    authority: str = ""
    token_url: str = ""
    scope: str = ""
    ca_bundle: str = ""
    app_id: str = ""
    caller_record_types: tuple[str, ...] = ("contact", "lead")
    timeline_activity: str = "phonecall"
    timeline_key_field: str = ""
    description_max: int = 2000
    page_size: int = 100
    client_secret: str = field(default="", repr=False)

    @classmethod
    def from_context(cls, context: AdapterContext) -> DynamicsSettings:
        s = context.settings
        settings = cls(
            org_url=str(s.get("org_url") or "").rstrip("/"),
            client_id=str(s.get("client_id") or ""),
            tenant_id=str(s.get("tenant_id") or ""),
            api_base=str(s.get("api_base") or "").rstrip("/"),
            api_version=str(s.get("api_version") or cls.api_version).lstrip("v"),
            authority=str(s.get("authority") or "").rstrip("/"),
            token_url=str(s.get("token_url") or ""),
            scope=str(s.get("scope") or ""),
            ca_bundle=str(s.get("ca_bundle") or ""),
            app_id=str(s.get("app_id") or ""),
            caller_record_types=tuple(s.get("caller_record_types") or cls.caller_record_types),
            timeline_activity=str(s.get("timeline_activity") or cls.timeline_activity),
            timeline_key_field=str(s.get("timeline_key_field") or ""),
            description_max=int(s.get("description_max") or cls.description_max),
            page_size=int(s.get("page_size") or cls.page_size),
            client_secret=context.secrets.get("client_secret", ""),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.org_url:
            raise ConfigError("Dynamics needs the organisation URL", field="org_url")
        if not self.client_id:
            raise ConfigError("Dynamics needs the app registration's client_id", field="client_id")
        if not self.client_secret:
            raise ConfigError("Dynamics needs the client_secret secret", field="client_secret")
        if not (self.tenant_id or self.authority or self.token_url):
            raise ConfigError("Dynamics needs the Entra tenant_id", field="tenant_id")
        if self.timeline_activity not in ("phonecall", "task"):
            raise ConfigError("timeline_activity is phonecall or task", field="timeline_activity")
        if not re.fullmatch(r"\d+\.\d+", self.api_version):
            raise ConfigError("api_version looks like 9.2", field="api_version")
        try:
            for name in (*self.caller_record_types, self.timeline_key_field or "x"):
                check_logical_name(name)
        except CrmRejectedError as exc:
            raise ConfigError(exc.detail, field="caller_record_types") from exc

    @property
    def effective_api_base(self) -> str:
        return self.api_base or f"{self.org_url}/api/data/v{self.api_version}"

    @property
    def effective_authority(self) -> str:
        return self.authority or f"https://login.microsoftonline.com/{self.tenant_id}"

    @property
    def effective_scope(self) -> str:
        return self.scope or f"{self.org_url}/.default"


# --- pure helpers ------------------------------------------------------------------------


def translate_error(status: int, body: Any, headers: Mapping[str, str]) -> CrmError:
    """A Dataverse error reply as the project's error type (vendor words kept apart)."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or "")
    message = safe_text(str(error.get("message") or ""))
    kwargs: dict[str, Any] = {"vendor_status": status, "vendor_message": message or None}
    match = _FIELD_PROPERTY.search(message)
    if match and status == 400:
        kwargs["field"] = match.group(1)
    detail = f"{VENDOR} answered {status}" + (f" {code}" if code else "")
    if status == 401:
        return CrmAuthError(f"{VENDOR} refused the access token", **kwargs)
    if status == 429:
        return CrmRateLimitedError(
            f"{VENDOR} service protection limit reached",
            retry_after=parse_retry_after(headers.get("retry-after")),
            **kwargs,
        )
    if status == 404:
        return CrmNotFoundError(detail, **kwargs)
    if status >= 500:
        return CrmUnavailableError(detail, **kwargs)
    return CrmRejectedError(detail + (f": {message}" if message else ""), **kwargs)


def key_marker(key: str) -> str:
    """The line that carries an activity's idempotency key in its description."""
    return f"[customer-card:{key}]"


def activity_payload(
    activity: TimelineActivity, table: Table, settings: DynamicsSettings
) -> dict[str, Any]:
    """The phonecall/task body for an activity, bound to its regarding row, with the
    idempotency key in ``timeline_key_field`` or, by default, a marker in the description."""
    kind = settings.timeline_activity
    marker = "" if settings.timeline_key_field else key_marker(activity.key)
    room = settings.description_max - (len(marker) + 2 if marker else 0)
    details = [
        activity.notes or "",
        *(
            f"{label}: {value}"
            for label, value in (
                ("Agent", activity.agent_name),
                ("Disposition", activity.disposition),
                ("Phone", activity.phone_number),
            )
            if value
        ),
    ]
    description = "\n".join(part for part in details if part)[: max(room, 0)]
    regarding = f"regardingobjectid_{table.logical_name}_{kind}@odata.bind"
    payload: dict[str, Any] = {
        "subject": activity.subject[:200],
        "description": f"{description}\n\n{marker}".strip() if marker else description,
        regarding: f"/{table.entity_set}({activity.record_id})",
    }
    if settings.timeline_key_field:
        payload[settings.timeline_key_field] = activity.key
    if activity.duration_seconds is not None:
        payload["actualdurationminutes"] = math.ceil(activity.duration_seconds / 60)
    if activity.started_at:
        payload["actualstart"] = activity.started_at.isoformat()
    if activity.ended_at:
        payload["actualend"] = activity.ended_at.isoformat()
    if kind == "phonecall":
        if activity.direction:
            payload["directioncode"] = activity.direction == "outbound"
        if activity.phone_number:
            payload["phonenumber"] = activity.phone_number[:200]
    return payload


def _label(meta: Mapping[str, Any], fallback: str) -> str:
    display = meta.get("DisplayName") or {}
    localized = display.get("UserLocalizedLabel") or {}
    return str(localized.get("Label") or fallback)


def _parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@register("dynamics")
def create_dynamics_adapter(context: AdapterContext) -> DynamicsAdapter:
    """Registry factory: a Dataverse adapter for one configuration."""
    return DynamicsAdapter(context)


class DynamicsAdapter:
    """``CrmAdapter`` for Dynamics 365 / Dataverse (Web API, configurable version)."""

    def __init__(self, context: AdapterContext) -> None:
        self._settings = DynamicsSettings.from_context(context)
        self._shared_http = context.http
        self._own_http: httpx.AsyncClient | None = None
        self._label = context.label
        self._region = context.default_phone_region
        self._tokens = TokenManager(
            self._mint_token, on_refresh=context.extra.get("on_token_refresh")
        )
        self._msal: Any = None  # ConfidentialClientApplication, built in a worker thread
        self._msal_session: Any = None
        # A token request's thread outlives a cancelled await: it must not open a session
        # after aclose() closed the last one (its sockets would never be closed).
        self._msal_guard = threading.Lock()
        self._closed = False
        timeout = context.http.timeout.connect if context.http is not None else None
        self._timeout = float(timeout or 10.0)
        self._tables: dict[str, Table] = dict(STANDARD_TABLES)
        self._fields: dict[str, list[FieldInfo]] = {}
        self._timeline_lock = asyncio.Lock()
        self._warmup: asyncio.Task[None] | None = None
        self._start_background()

    @property
    def _http(self) -> httpx.AsyncClient:
        """The service's shared client, or, with ``ca_bundle``, one of our own that trusts
        that bundle: an organisation whose Web API (not only its token endpoint) presents a
        certificate from a private CA. Made on first use, so building the adapter reads no
        file."""
        if not self._settings.ca_bundle:
            return self._shared_http
        if self._own_http is None:
            timeout = self._shared_http.timeout if self._shared_http is not None else 10.0
            self._own_http = httpx.AsyncClient(
                verify=ssl.create_default_context(cafile=self._settings.ca_bundle), timeout=timeout
            )
        return self._own_http

    # --- identity and links ------------------------------------------------------------

    @property
    def system(self) -> CrmSystem:
        return CrmSystem(type="dynamics", label=self._label, base_url=self._settings.org_url)

    def record_url(self, record_type: str, record_id: str) -> str:
        url = (
            f"{self._settings.org_url}/main.aspx?pagetype=entityrecord"
            f"&etn={record_type}&id={record_id}"
        )
        return url + (f"&appid={self._settings.app_id}" if self._settings.app_id else "")

    # --- tokens ----------------------------------------------------------------------------

    def _start_background(self) -> None:
        """Mint the first token now, then keep it fresh ahead of expiry."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # built outside a loop (a script): the first call mints instead
        if self._warmup is None:
            self._warmup = asyncio.create_task(self._warm_up(), name="dynamics-token-warmup")

    async def _warm_up(self) -> None:
        try:
            await self._tokens.get()
        except CrmError as exc:
            log.warning("Dynamics token warm-up failed: %s", exc.detail)
        except Exception as exc:  # never let a background task die unobserved
            log.warning("Dynamics token warm-up failed: %s", type(exc).__name__)
        finally:
            # started after the first mint, so the refresher schedules from a known expiry
            self._tokens.start()

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        if self._settings.token_url:
            return await self._mint_with_form_post()
        result = await asyncio.to_thread(self._acquire_with_msal)
        if "access_token" not in result:
            raise CrmAuthError(
                f"Entra ID refused the token request ({result.get('error', 'unknown')})",
                vendor_message=safe_text(str(result.get("error_description", "")), 300),
            )
        return str(result["access_token"]), float(result.get("expires_in") or 3599), None

    def _acquire_with_msal(self) -> dict[str, Any]:
        """Runs in a worker thread: MSAL's discovery and token calls are blocking."""
        import msal

        s = self._settings
        try:
            with self._msal_guard:
                if self._closed:
                    raise CrmUnavailableError("The Dynamics adapter was closed")
                if self._msal_session is None:
                    self._msal_session = _MsalSession(s.ca_bundle or None, self._timeout)
                if self._msal is None:
                    # instance discovery would ask login.microsoftonline.com about the host;
                    # the authority is configuration the admin chose: trusted as given.
                    self._msal = msal.ConfidentialClientApplication(
                        s.client_id,
                        client_credential=s.client_secret,
                        authority=s.effective_authority,
                        http_client=self._msal_session,
                        instance_discovery=False,
                    )
            # TokenManager decides when a new token is needed; MSAL's cache would hand back
            # the token Dataverse just refused.
            self._msal.remove_tokens_for_client()
            return dict(self._msal.acquire_token_for_client(scopes=[s.effective_scope]))
        except requests.Timeout as exc:
            raise CrmUnavailableError("Entra ID did not answer in time", timed_out=True) from exc
        except requests.RequestException as exc:
            raise CrmUnavailableError(
                f"Entra ID could not be reached ({type(exc).__name__})"
            ) from exc
        except ValueError as exc:  # authority discovery failed: wrong tenant or authority
            raise CrmAuthError("The Entra ID authority could not be used") from exc

    async def _mint_with_form_post(self) -> tuple[str, float | None, dict[str, str] | None]:
        s = self._settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "scope": s.effective_scope,
        }
        async with translate_transport_errors("Entra ID"):
            response = await self._http.post(
                s.token_url, data=form, headers={"Accept": "application/json"}
            )
        body = _json(response)
        if response.status_code >= 500:
            raise CrmUnavailableError(
                f"Entra ID answered {response.status_code}", vendor_status=response.status_code
            )
        if response.status_code != 200 or "access_token" not in body:
            raise CrmAuthError(
                f"Entra ID refused the token request ({body.get('error', response.status_code)})",
                vendor_status=response.status_code,
                vendor_message=safe_text(str(body.get("error_description", "")), 300),
            )
        return str(body["access_token"]), float(body.get("expires_in") or 3599), None

    # --- HTTP --------------------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        url = (
            path
            if path.startswith(("http://", "https://"))
            else f"{self._settings.effective_api_base}/{path}"
        )
        return f"{url}?{encode_query(params)}" if params else url

    async def _request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        prefer: str = _ANNOTATIONS,
        extra_headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        self._start_background()

        async def send() -> tuple[httpx.Response, str]:
            token = await self._tokens.get()
            headers = {
                "Authorization": f"Bearer {token.value}",
                "Accept": "application/json",
                "OData-MaxVersion": "4.0",
                "OData-Version": "4.0",
                "Prefer": prefer,
                **(extra_headers or {}),
            }
            async with translate_transport_errors(VENDOR):
                response = await self._http.request(method, url, json=json, headers=headers)
            return response, token.value

        response = await retry_once_on_401(send, self._tokens.invalidate)
        if response.status_code >= 400:
            raise translate_error(response.status_code, _json(response), response.headers)
        return response

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return _json(await self._request("GET", self._url(path, params)))

    async def _query(
        self, table: Table, filter_: str, limit: int, orderby: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows matching ``filter_``, following ``@odata.nextLink`` until ``limit`` rows."""
        params = {"$filter": filter_}
        if orderby:
            params["$orderby"] = orderby
        page = min(max(limit, 1), self._settings.page_size, 5000)
        prefer = f"{_ANNOTATIONS},odata.maxpagesize={page}"
        body = _json(await self._request("GET", self._url(table.entity_set, params), prefer=prefer))
        rows = list(body.get("value") or [])
        while len(rows) < limit and body.get("@odata.nextLink"):
            body = _json(await self._request("GET", str(body["@odata.nextLink"]), prefer=prefer))
            rows.extend(body.get("value") or [])
        return rows[:limit]

    # --- metadata ----------------------------------------------------------------------------

    async def _table(self, logical_name: str) -> Table:
        check_logical_name(logical_name, what="record_type")
        if logical_name not in self._tables:
            meta = await self._get(
                f"EntityDefinitions(LogicalName='{logical_name}')",
                {"$select": "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute"},
            )
            table = Table(
                logical_name,
                str(meta["EntitySetName"]),
                str(meta["PrimaryIdAttribute"]),
                str(meta.get("PrimaryNameAttribute") or meta["PrimaryIdAttribute"]),
            )
            fields = await self.list_fields(logical_name)
            self._tables[logical_name] = Table(
                table.logical_name,
                table.entity_set,
                table.primary_id,
                table.primary_name,
                tuple(f.name for f in fields if f.type == FieldType.PHONE),
                tuple(f.name for f in fields if f.type == FieldType.EMAIL),
            )
        return self._tables[logical_name]

    async def list_record_types(self) -> list[RecordType]:
        body = await self._get(
            "EntityDefinitions",
            {
                "$select": (
                    "LogicalName,EntitySetName,DisplayName,IsCustomEntity,IsActivity,HasActivities,"
                    "IsValidForAdvancedFind,IsIntersect"
                )
            },
        )
        return [
            RecordType(
                name=e["LogicalName"],
                label=_label(e, e["LogicalName"]),
                standard=not e.get("IsCustomEntity"),
                createable=not e.get("IsIntersect"),
                searchable=True,
                supports_timeline=bool(e.get("HasActivities")),
            )
            for e in body.get("value", [])
            if e.get("IsValidForAdvancedFind") and not e.get("IsIntersect")
        ]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        check_logical_name(record_type, what="record_type")
        if record_type in self._fields:
            return self._fields[record_type]
        base = f"EntityDefinitions(LogicalName='{record_type}')/Attributes"
        cast = base + "/Microsoft.Dynamics.CRM."
        attributes = await self._get(
            base,
            {
                "$select": (
                    "LogicalName,AttributeType,DisplayName,RequiredLevel,IsValidForCreate,"
                    "IsValidForUpdate,IsCustomAttribute,AttributeOf"
                )
            },
        )
        strings = await self._get(
            cast + "StringAttributeMetadata", {"$select": "LogicalName,MaxLength,FormatName"}
        )
        memos = await self._get(
            cast + "MemoAttributeMetadata", {"$select": "LogicalName,MaxLength"}
        )
        picklists = await self._get(
            cast + "PicklistAttributeMetadata",
            {"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
        )
        lengths = {a["LogicalName"]: a for a in strings.get("value", []) + memos.get("value", [])}
        options = {
            p["LogicalName"]: [
                _label({"DisplayName": o.get("Label")}, str(o.get("Value")))
                for o in (p.get("OptionSet") or {}).get("Options", [])
            ]
            for p in picklists.get("value", [])
        }
        fields = [
            self._field_info(
                a, lengths.get(a["LogicalName"], {}), options.get(a["LogicalName"], [])
            )
            for a in attributes.get("value", [])
            if not a.get("AttributeOf")
        ]
        self._fields[record_type] = fields
        return fields

    @staticmethod
    def _field_info(
        meta: Mapping[str, Any], extra: Mapping[str, Any], options: list[str]
    ) -> FieldInfo:
        name = str(meta["LogicalName"])
        kind = str(meta.get("AttributeType") or "")
        if kind == "String":
            fmt = str((extra.get("FormatName") or {}).get("Value") or "Text")
            field_type = _STRING_FORMATS.get(fmt, FieldType.TEXT)
        else:
            field_type = _TYPES.get(kind, FieldType.OTHER)
        level = str((meta.get("RequiredLevel") or {}).get("Value") or "None")
        createable = bool(meta.get("IsValidForCreate"))
        return FieldInfo(
            name=name,
            label=_label(meta, name),
            type=field_type,
            max_length=int(extra["MaxLength"]) if extra.get("MaxLength") else None,
            required=createable
            and name not in _DEFAULTED
            and level in ("SystemRequired", "ApplicationRequired"),
            createable=createable,
            updateable=bool(meta.get("IsValidForUpdate")),
            custom=bool(meta.get("IsCustomAttribute")),
            options=options,
        )

    # --- records ---------------------------------------------------------------------------

    def _to_record(self, table: Table, raw: Mapping[str, Any]) -> CrmRecord:
        fields: dict[str, FieldValue] = {
            k: v
            for k, v in raw.items()
            if "@" not in k and (v is None or isinstance(v, str | int | float | bool))
        }
        parents: dict[str, str] = {}
        for key, value in raw.items():
            if not key.endswith(_LOOKUP_TYPE) or not isinstance(value, str):
                continue
            column = key[: -len(_LOOKUP_TYPE)]
            if column.strip("_").removesuffix("_value") not in _SYSTEM_LOOKUPS and raw.get(column):
                parents[value] = str(raw[column])
        record_id = str(raw.get(table.primary_id) or "")
        title = fields.get(table.primary_name) or record_id
        return CrmRecord(
            type=table.logical_name,
            id=record_id,
            title=str(title),
            url=self.record_url(table.logical_name, record_id),
            fields=fields,
            updated_at=_parse_datetime(raw.get("modifiedon")),
            parent_ids=parents,
        )

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        table = await self._table(record_type)
        if not is_guid(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        raw = await self._get(f"{table.entity_set}({record_id})")
        return self._to_record(table, raw)

    async def _check_required(self, record_type: str, fields: Mapping[str, FieldValue]) -> None:
        # Dataverse enforces only system-required columns on the API; business-required ones
        # are a form rule. The adapter is this product's form, so it enforces both.
        given = {k.split("@")[0].rsplit("_", 1)[0] if "@" in k else k for k in fields}
        for info in await self.list_fields(record_type):
            if info.required and fields.get(info.name) in (None, "") and info.name not in given:
                raise CrmRejectedError(f"{info.label} is required", field=info.name)

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        table = await self._table(record_type)
        await self._check_required(record_type, fields)
        response = await self._request(
            "POST",
            self._url(table.entity_set),
            json=dict(fields),
            prefer=f"return=representation,{_ANNOTATIONS}",
        )
        return self._to_record(table, _json(response))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        table = await self._table(record_type)
        if not is_guid(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        if not fields:
            return await self.get(record_type, record_id)
        # If-Match: * makes PATCH update only: it must never create a row with this id
        response = await self._request(
            "PATCH",
            self._url(f"{table.entity_set}({record_id})"),
            json=dict(fields),
            prefer=f"return=representation,{_ANNOTATIONS}",
            extra_headers={"If-Match": "*"},
        )
        return self._to_record(table, _json(response))

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        queries: list[tuple[str, str]] = []
        me = record.id
        if not is_guid(me):
            return []
        if record.type == "contact":
            account = record.parent_ids.get("account")
            if account and is_guid(account):
                queries.append(
                    ("contact", f"_parentcustomerid_value eq {account} and contactid ne {me}")
                )
            queries.append(("incident", f"_customerid_value eq {me}"))
        elif record.type == "account":
            queries += [
                ("contact", f"_parentcustomerid_value eq {me}"),
                ("incident", f"_customerid_value eq {me}"),
            ]
        result: list[CrmRecord] = []
        for logical_name, filter_ in queries:
            if len(result) >= limit:
                break
            table = await self._table(logical_name)
            rows = await self._query(table, filter_, limit - len(result), "modifiedon desc")
            result += [self._to_record(table, r) for r in rows]
        if record.type == "incident":
            for kind, parent in record.parent_ids.items():
                if kind in ("contact", "account") and len(result) < limit:
                    with contextlib.suppress(CrmNotFoundError):
                        result.append(await self.get(kind, parent))
        return result[:limit]

    # --- search --------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            try:
                return [await self.get(query.record_type, query.id.strip())]
            except CrmNotFoundError:
                return []
        if isinstance(query, DynamicSearch):
            table = await self._table(query.record_type)
            rows = await self._query(
                table, build_dynamic_filter(query.conditions, query.join), query.limit
            )
            return [self._to_record(table, r) for r in rows]
        result: list[CrmRecord] = []
        variants = (
            phone_variants(query.number, self._region) if isinstance(query, PhoneSearch) else None
        )
        for logical_name in query.record_types or self._settings.caller_record_types:
            if len(result) >= query.limit:
                break
            table = await self._table(logical_name)
            if isinstance(query, PhoneSearch):
                filter_ = build_phone_filter(table.phone_fields, variants)  # type: ignore[arg-type]
            elif isinstance(query, EmailSearch):
                email = query.email.strip()
                filter_ = (
                    any_of(eq(f, email) for f in table.email_fields)
                    if email and table.email_fields
                    else None
                )
            else:
                assert isinstance(query, TextSearch)
                filter_ = (
                    contains(table.primary_name, query.text.strip()) if query.text.strip() else None
                )
            if filter_ is None:
                continue
            rows = await self._query(table, filter_, query.limit - len(result))
            if variants is not None:  # the digit pattern over-approximates; keep true matches
                rows = [
                    r
                    for r in rows
                    if any(
                        stored_number_matches(str(r.get(f) or ""), variants, self._region)
                        for f in table.phone_fields
                    )
                ]
            result += [self._to_record(table, r) for r in rows]
        return result[: query.limit]

    # --- timeline ----------------------------------------------------------------------------

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        s = self._settings
        table = await self._table(activity.record_type)
        if not is_guid(activity.record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {activity.record_type} with that id")
        kind = await self._table(s.timeline_activity)
        if s.timeline_key_field:
            filter_ = eq(s.timeline_key_field, activity.key)
        else:
            filter_ = f"_regardingobjectid_value eq {activity.record_id} and " + contains(
                "description", key_marker(activity.key)
            )
        async with self._timeline_lock:  # one check-then-create at a time per adapter
            existing = await self._query(kind, filter_, 1)
            if existing:
                return TimelineRef(
                    id=str(existing[0][kind.primary_id]), type=kind.logical_name, created=False
                )
            response = await self._request(
                "POST",
                self._url(kind.entity_set),
                json=activity_payload(activity, table, s),
                prefer="return=representation",
            )
            return TimelineRef(id=str(_json(response)[kind.primary_id]), type=kind.logical_name)

    # --- lifecycle ---------------------------------------------------------------------------

    async def check(self) -> None:
        await self._get("WhoAmI")  # proves token, host, version and the application user

    async def aclose(self) -> None:
        if self._warmup is not None:
            self._warmup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warmup
            self._warmup = None
        await self._tokens.aclose()
        if self._own_http is not None:
            await self._own_http.aclose()
            self._own_http = None
        with self._msal_guard:  # a request in flight finds its pool closed and closes too
            self._closed = True
            if self._msal_session is not None:
                self._msal_session.close()
                self._msal_session = None
                self._msal = None


class _MsalSession(requests.Session):
    """The ``requests`` session MSAL uses: a per-request CA bundle (a session-level ``verify``
    loses against ``REQUESTS_CA_BUNDLE`` in the environment) and a timeout (MSAL sets none)."""

    def __init__(self, ca_bundle: str | None, timeout: float) -> None:
        super().__init__()
        self._ca_bundle, self._timeout = ca_bundle, timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if self._ca_bundle:
            kwargs.setdefault("verify", self._ca_bundle)
        kwargs.setdefault("timeout", self._timeout)
        return super().request(*args, **kwargs)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {"error": {"message": safe_text(response.text, 200)}}
