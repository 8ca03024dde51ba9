"""HubSpot CRM adapter: v3 objects API (or a dated version such as ``2026-03``), v4
associations, properties API for metadata, call engagements for the timeline.

Auth is a private-app token or service key (a static bearer token without expiry). It goes
through ``TokenManager`` like every other CRM so the request path is the same; a ``401``
cannot be cured by refreshing a static token and is reported as ``CrmAuthError``.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import phonenumbers

from ...errors import (
    ConfigError,
    CrmAuthError,
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from ...http import as_form_text, parse_retry_after, safe_text, translate_transport_errors
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
    FilterGroup,
    check_object_type,
    dynamic_filter_groups,
    email_filter_groups,
    eq,
    is_record_id,
    name_filter_groups,
    phone_filter_groups,
    search_body,
)

__all__ = [
    "HubSpotAdapter",
    "HubSpotSettings",
    "HubSpotPaths",
    "call_properties",
    "hubspot_error",
    "field_info",
]

log = logging.getLogger(__name__)

OBJECT_TYPE_IDS = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tickets": "0-5",
    "calls": "0-48",
}
STANDARD_TYPES = {
    "contacts": "Contact",
    "companies": "Company",
    "deals": "Deal",
    "tickets": "Ticket",
}
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": (
        "firstname",
        "lastname",
        "email",
        "phone",
        "mobilephone",
        "company",
        "jobtitle",
        "associatedcompanyid",
        "lastmodifieddate",
    ),
    "companies": ("name", "domain", "phone", "city", "country"),
    "deals": ("dealname", "amount", "dealstage", "pipeline", "closedate"),
    "tickets": (
        "subject",
        "content",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_priority",
        "createdate",
    ),
}
# (first name, last name, whole name) properties a text search compares with
NAME_PROPERTIES = {
    "contacts": ("firstname", "lastname", None),
    "companies": (None, None, "name"),
    "deals": (None, None, "dealname"),
    "tickets": (None, None, "subject"),
}
PHONE_TEXT_PROPERTIES = {"contacts": ("phone", "mobilephone"), "companies": ("phone",)}
PHONE_CALCULATED_PROPERTIES = {
    "contacts": ("hs_searchable_calculated_phone_number", "hs_searchable_calculated_mobile_number")
}
EMAIL_PROPERTIES = {"contacts": ("email",)}
# Required on create although the properties API does not say so (HubSpot docs per object).
REQUIRED_PROPERTIES = {
    "tickets": frozenset({"subject", "hs_pipeline_stage"}),
    "deals": frozenset({"dealname", "dealstage"}),
}
# Default call -> object association type ids; others are read from the labels API.
CALL_ASSOCIATION_TYPES = {"contacts": 194, "companies": 182, "deals": 206, "tickets": 220}
RELATED_TYPES = {
    "contacts": ("companies", "tickets", "deals"),
    "companies": ("contacts", "tickets", "deals"),
    "tickets": ("contacts", "companies"),
    "deals": ("contacts", "companies"),
}
TEXT_MAX_LENGTH = 65_536
_MAX_PAGES = 10
_FIELDS_TTL = 300.0
_VERSION = re.compile(r"v\d+|\d{4}-\d{2}")


@dataclass(frozen=True)
class HubSpotSettings:
    """A configuration's non-secret HubSpot settings."""

    account_id: str
    portal_domain: str = "app.hubspot.com"
    api_base: str = "https://api.hubapi.com"
    api_version: str = "v3"
    caller_types: tuple[str, ...] = ("contacts",)
    timeout: float = 10.0

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> HubSpotSettings:
        account_id = str(settings.get("account_id") or "").strip()
        if not account_id.isdigit():
            raise ConfigError(
                "HubSpot needs the account (Hub) id as account_id", field="account_id"
            )
        version = str(settings.get("api_version") or "v3").strip()
        if not _VERSION.fullmatch(version):
            raise ConfigError("api_version must look like v3 or 2026-03", field="api_version")
        domain = str(settings.get("external_screenpop_domain_hs") or "app.hubspot.com")
        domain = domain.strip().removeprefix("https://").rstrip("/")
        caller_types = tuple(settings.get("caller_types") or ("contacts",))
        for name in caller_types:
            check_object_type(name)
        return cls(
            account_id=account_id,
            portal_domain=domain,
            api_base=str(settings.get("api_base") or cls.api_base).rstrip("/"),
            api_version=version,
            caller_types=caller_types,
            timeout=float(settings.get("timeout_seconds") or 10.0),
        )


class HubSpotPaths:
    """URL paths for a numbered (``v3``) or dated (``2026-03``) API version.

    Dated versions moved each family: objects to ``/crm/objects/{v}``, record associations
    under the objects family, association labels to ``/crm/associations/{v}``, properties
    to ``/crm/properties/{v}``. Schemas have no dated equivalent yet and stay on v3.
    """

    def __init__(self, version: str) -> None:
        self.version = version
        self.dated = not version.startswith("v")

    def objects(self, object_type: str) -> str:
        v = self.version
        if self.dated:
            return f"/crm/objects/{v}/{object_type}"
        return f"/crm/{v}/objects/{object_type}"

    def record(self, object_type: str, record_id: str) -> str:
        return f"{self.objects(object_type)}/{record_id}"

    def search(self, object_type: str) -> str:
        return f"{self.objects(object_type)}/search"

    def batch_read(self, object_type: str) -> str:
        return f"{self.objects(object_type)}/batch/read"

    def properties(self, object_type: str) -> str:
        v = self.version
        return (
            f"/crm/properties/{v}/{object_type}"
            if self.dated
            else f"/crm/{v}/properties/{object_type}"
        )

    def associations(self, object_type: str, record_id: str, to_type: str) -> str:
        base = (
            self.record(object_type, record_id)
            if self.dated
            else f"/crm/v4/objects/{object_type}/{record_id}"
        )
        return f"{base}/associations/{to_type}"

    def association_labels(self, from_type: str, to_type: str) -> str:
        prefix = f"/crm/associations/{self.version}" if self.dated else "/crm/v4/associations"
        return f"{prefix}/{from_type}/{to_type}/labels"

    def schemas(self) -> str:
        return "/crm/v3/schemas"

    def account_details(self) -> str:
        return f"/account-info/{self.version if self.dated else 'v3'}/details"


# --- pure mappings ------------------------------------------------------------------------


def hubspot_error(response: httpx.Response, secrets: Sequence[str] = ()) -> CrmError:
    """The project error for a HubSpot error reply; the vendor's words go to
    ``vendor_message`` (with any secret blanked), a short safe text to ``detail``."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message") or response.text or response.reason_phrase)
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    category = body.get("category") or body.get("errorType") or ""
    correlation = body.get("correlationId")
    vendor = safe_text(f"{message} (correlationId {correlation})" if correlation else message)
    status = response.status_code
    kw: dict[str, Any] = {"vendor_status": status, "vendor_message": vendor}
    if status == 429:
        return CrmRateLimitedError(
            "HubSpot rate limit reached", retry_after=_rate_limit_wait(response, body), **kw
        )
    if status == 401:
        return CrmAuthError("HubSpot refused the access token", **kw)
    if status == 403:
        return CrmRejectedError("HubSpot denied access (missing scope or permission)", **kw)
    if status == 404:
        return CrmNotFoundError("HubSpot record or object type not found", **kw)
    if status >= 500:
        return CrmUnavailableError(f"HubSpot answered {status}", **kw)
    return CrmRejectedError(f"HubSpot rejected the request ({category or status})", **kw)


def _rate_limit_wait(response: httpx.Response, body: Mapping[str, Any]) -> float | None:
    """Retry-After when sent; else the rolling window length for burst policies. A daily
    policy has no useful wait (it resets at midnight in the account's time zone)."""
    wait = parse_retry_after(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    if "DAILY" in str(body.get("policyName") or "").upper():
        return None
    interval = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
    try:
        return float(interval) / 1000.0 if interval else 10.0
    except ValueError:
        return 10.0


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def call_properties(activity: TimelineActivity, now: datetime | None = None) -> dict[str, str]:
    """A call engagement's properties for a timeline activity. The idempotency key goes
    into ``hs_call_external_id``; the body is HTML, so free text is escaped."""
    lines = [activity.notes or ""]
    if activity.disposition:
        lines.append(f"Disposition: {activity.disposition}")
    if activity.agent_name:
        lines.append(f"Agent: {activity.agent_name}")
    if activity.channel == "digital":
        lines.append("Channel: digital")
    body = "<br>".join(html.escape(line) for line in lines if line)
    moment = activity.ended_at or activity.started_at or now or datetime.now(UTC)
    props = {
        "hs_timestamp": _iso(moment),
        "hs_call_title": activity.subject,
        "hs_call_body": body,
        "hs_call_status": "COMPLETED",
        "hs_call_external_id": activity.key,
    }
    if activity.direction:
        props["hs_call_direction"] = activity.direction.upper()
    if activity.duration_seconds is not None:
        props["hs_call_duration"] = str(activity.duration_seconds * 1000)  # milliseconds
    if activity.phone_number:
        side = "hs_call_from_number" if activity.direction != "outbound" else "hs_call_to_number"
        props[side] = activity.phone_number
    return props


_FIELD_TYPES = {
    "phonenumber": FieldType.PHONE,
    "textarea": FieldType.LONG_TEXT,
    "html": FieldType.LONG_TEXT,
    "number": FieldType.NUMBER,
    "booleancheckbox": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "select": FieldType.PICKLIST,
    "radio": FieldType.PICKLIST,
    "checkbox": FieldType.PICKLIST,
}
_TYPES = {
    "number": FieldType.NUMBER,
    "bool": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "enumeration": FieldType.PICKLIST,
    "phone_number": FieldType.PHONE,
}


def field_info(raw: Mapping[str, Any], required: frozenset[str] = frozenset()) -> FieldInfo:
    """A property definition from the properties API as a ``FieldInfo``."""
    name = str(raw["name"])
    kind = _TYPES.get(str(raw.get("type")), FieldType.TEXT)
    kind = _FIELD_TYPES.get(str(raw.get("fieldType")), kind)
    if raw.get("type") == "datetime":
        kind = FieldType.DATETIME
    if name == "email":
        kind = FieldType.EMAIL
    read_only = bool((raw.get("modificationMetadata") or {}).get("readOnlyValue")) or bool(
        raw.get("calculated")
    )
    return FieldInfo(
        name=name,
        label=str(raw.get("label") or name),
        type=kind,
        max_length=TEXT_MAX_LENGTH if raw.get("type") == "string" else None,
        required=name in required,
        createable=not read_only,
        updateable=not read_only,
        custom=not raw.get("hubspotDefined", False),
        options=[str(o.get("value")) for o in raw.get("options") or [] if "value" in o],
    )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


# --- the adapter --------------------------------------------------------------------------


class HubSpotAdapter:
    """``CrmAdapter`` for HubSpot."""

    def __init__(
        self,
        settings: HubSpotSettings,
        access_token: str,
        http: httpx.AsyncClient,
        *,
        label: str = "HubSpot",
        default_region: str = "DE",
    ) -> None:
        self._settings = settings
        self._paths = HubSpotPaths(settings.api_version)
        self._http = http
        self._secret = access_token
        self._region = default_region
        self._tokens = TokenManager(self._static_token)
        self._system = CrmSystem(
            type="hubspot", label=label, base_url=f"https://{settings.portal_domain}"
        )
        self._fields: dict[str, tuple[float, list[FieldInfo]]] = {}
        self._call_types: dict[str, int] = dict(CALL_ASSOCIATION_TYPES)

    async def _static_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        return self._secret, None, None

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- HTTP edge ----------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        token = await self._tokens.get()
        headers = {"Authorization": f"Bearer {token.value}", "Accept": "application/json"}
        async with translate_transport_errors("HubSpot"):
            response = await self._http.request(
                method,
                self._settings.api_base + path,
                json=json,
                params=params,
                headers=headers,
                timeout=self._settings.timeout,
            )
        if response.status_code >= 400:
            raise hubspot_error(response, [self._secret])
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise CrmUnavailableError("HubSpot sent a reply that is not JSON") from exc

    def _properties(self, object_type: str) -> list[str]:
        return list(DEFAULT_PROPERTIES.get(object_type, ("hs_object_id",)))

    def _record(self, object_type: str, raw: Mapping[str, Any]) -> CrmRecord:
        props: dict[str, Any] = dict(raw.get("properties") or {})
        record_id = str(raw["id"])
        parents = {}
        if props.get("associatedcompanyid"):
            parents["companies"] = str(props["associatedcompanyid"])
        return CrmRecord(
            type=object_type,
            id=record_id,
            title=self._title(object_type, props, record_id),
            url=self.record_url(object_type, record_id),
            fields=props,
            updated_at=_parse_time(raw.get("updatedAt")),
            parent_ids=parents,
        )

    @staticmethod
    def _title(object_type: str, props: Mapping[str, Any], record_id: str) -> str:
        first, last, whole = NAME_PROPERTIES.get(object_type, (None, None, "name"))
        if first and last:
            name = " ".join(str(props.get(p) or "").strip() for p in (first, last)).strip()
            if name:
                return name
            return str(props.get("email") or f"{object_type} {record_id}")
        return str(props.get(whole or "name") or f"{object_type} {record_id}")

    # --- search -------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            try:
                return [await self.get(query.record_type, query.id)]
            except CrmNotFoundError:
                return []
        if isinstance(query, DynamicSearch):
            return await self._dynamic(query)
        found: list[CrmRecord] = []
        for object_type in query.record_types or self._settings.caller_types:
            check_object_type(object_type)
            remaining = query.limit - len(found)
            if remaining <= 0:
                break
            if isinstance(query, PhoneSearch):
                found += await self._phone(object_type, query.number, remaining)
            elif isinstance(query, EmailSearch):
                groups = email_filter_groups(query.email, EMAIL_PROPERTIES.get(object_type, ()))
                found += await self._search(object_type, groups, remaining)
            elif isinstance(query, TextSearch):
                first, last, whole = NAME_PROPERTIES.get(object_type, (None, None, None))
                groups = name_filter_groups(query.text, first, last, whole)
                found += await self._search(object_type, groups, remaining)
        return found

    async def _phone(self, object_type: str, number: str, limit: int) -> list[CrmRecord]:
        text_fields = PHONE_TEXT_PROPERTIES.get(object_type)
        if text_fields is None:
            text_fields = tuple(
                f.name for f in await self.list_fields(object_type) if f.type == FieldType.PHONE
            )
        variants = phone_variants(number, self._region)
        national = None
        if variants.e164:  # HubSpot's calculated properties hold the number without country
            national = phonenumbers.national_significant_number(phonenumbers.parse(variants.e164))
        groups = phone_filter_groups(
            variants, national, text_fields, PHONE_CALCULATED_PROPERTIES.get(object_type, ())
        )

        def same_number(record: CrmRecord) -> bool:
            return any(
                stored_number_matches(str(record.fields.get(f) or ""), variants, self._region)
                for f in text_fields
            )

        return await self._search(object_type, groups, limit, accept=same_number)

    async def _dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        object_type = check_object_type(query.record_type)
        groups = dynamic_filter_groups(query.conditions, query.join)
        known = {f.name for f in await self.list_fields(object_type)}
        for condition in query.conditions:
            if condition.field not in known:
                raise CrmRejectedError(
                    f"{object_type} has no property {condition.field!r}", field=condition.field
                )
        return await self._search(object_type, groups, query.limit)

    async def _search(
        self,
        object_type: str,
        groups: list[FilterGroup],
        limit: int,
        accept: Callable[[CrmRecord], bool] | None = None,
    ) -> list[CrmRecord]:
        """Follow ``paging.next.after`` until ``limit`` accepted records or the end."""
        if not groups or limit <= 0:
            return []
        found: list[CrmRecord] = []
        after: str | None = None
        page_size = limit if accept is None else max(limit, 20)
        for _ in range(_MAX_PAGES):
            body = search_body(groups, self._properties(object_type), page_size, after)
            data = await self._call("POST", self._paths.search(object_type), json=body)
            for raw in data.get("results") or []:
                record = self._record(object_type, raw)
                if accept is None or accept(record):
                    found.append(record)
                    if len(found) >= limit:
                        return found
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        return found

    # --- records ------------------------------------------------------------------------

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        check_object_type(record_type)
        if not is_record_id(record_id):
            raise CrmNotFoundError(f"{record_id!r} is not a HubSpot record id")
        data = await self._call(
            "GET",
            self._paths.record(record_type, record_id),
            params={"properties": ",".join(self._properties(record_type))},
        )
        return self._record(record_type, data)

    async def _batch_read(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        if not ids:
            return []
        body = {"inputs": [{"id": i} for i in ids], "properties": self._properties(object_type)}
        data = await self._call("POST", self._paths.batch_read(object_type), json=body)
        return [self._record(object_type, raw) for raw in data.get("results") or []]

    async def _associated_ids(self, object_type: str, record_id: str, to_type: str) -> list[str]:
        data = await self._call(
            "GET", self._paths.associations(object_type, record_id, to_type), params={"limit": 100}
        )
        return [str(item["toObjectId"]) for item in data.get("results") or []]

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        """Contacts: their companies, the companies' other contacts, their tickets and
        deals. Companies: contacts, tickets, deals. Tickets and deals: contacts, companies."""
        check_object_type(record.type)
        found: list[CrmRecord] = []
        seen = {(record.type, record.id)}
        for to_type in RELATED_TYPES.get(record.type, ()):
            ids = await self._associated_ids(record.type, record.id, to_type)
            for item in await self._batch_read(to_type, ids[:limit]):
                if (item.type, item.id) not in seen:
                    seen.add((item.type, item.id))
                    found.append(item)
            if to_type == "companies" and record.type == "contacts":
                for company_id in ids[:2]:
                    peers = await self._associated_ids("companies", company_id, "contacts")
                    peers = [i for i in peers if ("contacts", i) not in seen][:limit]
                    for item in await self._batch_read("contacts", peers):
                        seen.add((item.type, item.id))
                        found.append(item)
        return found[:limit]

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        check_object_type(record_type)
        body = {"properties": {k: as_form_text(v) for k, v in fields.items()}}
        data = await self._call("POST", self._paths.objects(record_type), json=body)
        return await self.get(record_type, str(data["id"]))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        check_object_type(record_type)
        if not is_record_id(record_id):
            raise CrmNotFoundError(f"{record_id!r} is not a HubSpot record id")
        body = {"properties": {k: as_form_text(v) for k, v in fields.items()}}
        await self._call("PATCH", self._paths.record(record_type, record_id), json=body)
        return await self.get(record_type, record_id)

    # --- timeline -----------------------------------------------------------------------

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        """A call engagement associated with the record. The key is stored in
        ``hs_call_external_id`` and searched for first, so a retry finds the earlier call
        (HubSpot search lags a few seconds behind writes: see docs/crm-hubspot.md)."""
        record_type = check_object_type(activity.record_type)
        if not is_record_id(activity.record_id):
            raise CrmNotFoundError(f"{activity.record_id!r} is not a HubSpot record id")
        body = search_body(
            [{"filters": [eq("hs_call_external_id", activity.key)]}], ["hs_call_external_id"], 1
        )
        existing = await self._call("POST", self._paths.search("calls"), json=body)
        for raw in existing.get("results") or []:
            return TimelineRef(id=str(raw["id"]), type="calls", created=False)
        type_id = await self._call_association_type(record_type)
        payload = {
            "properties": call_properties(activity),
            "associations": [
                {
                    "to": {"id": activity.record_id},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
                    ],
                }
            ],
        }
        data = await self._call("POST", self._paths.objects("calls"), json=payload)
        return TimelineRef(id=str(data["id"]), type="calls", created=True)

    async def _call_association_type(self, record_type: str) -> int:
        if record_type not in self._call_types:
            data = await self._call("GET", self._paths.association_labels("calls", record_type))
            labels = data.get("results") or []
            default = [x for x in labels if x.get("category") == "HUBSPOT_DEFINED"] or labels
            if not default:
                raise CrmRejectedError(f"HubSpot cannot associate calls with {record_type}")
            self._call_types[record_type] = int(default[0]["typeId"])
        return self._call_types[record_type]

    # --- metadata -----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        types = [RecordType(name=name, label=label) for name, label in STANDARD_TYPES.items()]
        try:
            data = await self._call("GET", self._paths.schemas())
        except CrmRejectedError as exc:  # token without crm.schemas.custom.read
            log.warning("HubSpot custom object schemas not readable: %s", exc.detail)
            return types
        for schema in data.get("results") or []:
            labels = schema.get("labels") or {}
            types.append(
                RecordType(
                    name=str(schema.get("objectTypeId") or schema.get("name")),
                    label=str(labels.get("singular") or schema.get("name")),
                    standard=False,
                )
            )
        return types

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        check_object_type(record_type)
        cached = self._fields.get(record_type)
        if cached and time.monotonic() - cached[0] < _FIELDS_TTL:
            return cached[1]
        data = await self._call("GET", self._paths.properties(record_type))
        required = REQUIRED_PROPERTIES.get(record_type, frozenset())
        fields = [
            field_info(raw, required)
            for raw in data.get("results") or []
            if not raw.get("hidden") and not raw.get("archived")
        ]
        self._fields[record_type] = (time.monotonic(), fields)
        return fields

    def record_url(self, record_type: str, record_id: str) -> str:
        type_id = OBJECT_TYPE_IDS.get(record_type, record_type)
        return (
            f"https://{self._settings.portal_domain}/contacts/{self._settings.account_id}"
            f"/record/{type_id}/{record_id}"
        )

    async def check(self) -> None:
        data = await self._call("GET", self._paths.account_details())
        portal = str(data.get("portalId") or "")
        if portal and portal != self._settings.account_id:
            raise CrmAuthError(
                f"The access token belongs to HubSpot account {portal}, "
                f"not {self._settings.account_id}"
            )

    async def aclose(self) -> None:
        await self._tokens.aclose()


@register("hubspot")
def create_hubspot_adapter(context: AdapterContext) -> HubSpotAdapter:
    """Factory for the registry: settings and the ``access_token`` secret."""
    settings = HubSpotSettings.from_mapping(context.settings)
    token = context.secrets.get("access_token", "")
    if not token:
        raise ConfigError(
            "HubSpot needs an access_token (private app token or service key)", field="access_token"
        )
    return HubSpotAdapter(
        settings,
        token,
        context.http,
        label=context.label,
        default_region=context.default_phone_region,
    )
