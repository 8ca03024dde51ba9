"""ServiceNow adapter: Table API (``/api/now/table``), dictionary metadata, journal entries
and interaction records for the timeline.

Auth is Basic (integration user) or OAuth: password grant once, then the refresh token,
both through ``TokenManager`` so tokens are refreshed in the background ahead of expiry; a
``401`` on an OAuth call drops the token and retries once with a fresh one.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

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
from ...http import (
    as_form_text,
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
    QueryValueError,
    check_table,
    dynamic_query,
    email_query,
    in_query,
    is_sys_id,
    name_query,
    order_by_desc,
    phone_query,
    term,
    timeline_marker,
    timeline_text,
)

__all__ = ["ServiceNowAdapter", "ServiceNowSettings", "servicenow_error", "field_info"]

log = logging.getLogger(__name__)

PERSON_TABLES = frozenset({"sys_user", "customer_contact", "csm_consumer"})
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "sys_user": (
        "sys_id",
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile_phone",
        "title",
        "company",
        "user_name",
        "sys_updated_on",
    ),
    "customer_contact": (
        "sys_id",
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile_phone",
        "title",
        "company",
        "account",
        "sys_updated_on",
    ),
    "core_company": ("sys_id", "name", "phone", "city", "country", "sys_updated_on"),
    "customer_account": ("sys_id", "name", "number", "phone", "sys_updated_on"),
    "incident": (
        "sys_id",
        "number",
        "short_description",
        "description",
        "caller_id",
        "company",
        "state",
        "priority",
        "sys_updated_on",
    ),
    "sn_customerservice_case": (
        "sys_id",
        "number",
        "short_description",
        "description",
        "contact",
        "account",
        "state",
        "priority",
        "sys_updated_on",
    ),
    "interaction": (
        "sys_id",
        "number",
        "type",
        "state",
        "opened_for",
        "short_description",
        "sys_updated_on",
    ),
}
# (first name, last name, whole name) fields a text search compares with
NAME_FIELDS = {
    "sys_user": ("first_name", "last_name", "name"),
    "customer_contact": ("first_name", "last_name", "name"),
    "core_company": (None, None, "name"),
    "customer_account": (None, None, "name"),
    "incident": (None, None, "number"),
    "sn_customerservice_case": (None, None, "number"),
}
PHONE_FIELDS = {
    "sys_user": ("phone", "mobile_phone", "home_phone"),
    "customer_contact": ("phone", "mobile_phone"),
    "core_company": ("phone",),
    "customer_account": ("phone",),
}
EMAIL_FIELDS = {"sys_user": ("email",), "customer_contact": ("email",)}
# reference field -> the table it points to, for CrmRecord.parent_ids
PARENT_FIELDS = {
    "company": "core_company",
    "account": "customer_account",
    "caller_id": "sys_user",
    "contact": "customer_contact",
    "opened_for": "sys_user",
}
# how an interaction record points at a person of each table
INTERACTION_PERSON_FIELD = {
    "sys_user": "opened_for",
    "customer_contact": "contact",
    "csm_consumer": "consumer",
}
STANDARD_TABLES = (
    "sys_user",
    "customer_contact",
    "core_company",
    "customer_account",
    "incident",
    "sn_customerservice_case",
    "interaction",
)
_DICTIONARY_TYPES = {
    "string": FieldType.TEXT,
    "journal": FieldType.LONG_TEXT,
    "journal_input": FieldType.LONG_TEXT,
    "journal_list": FieldType.LONG_TEXT,
    "html": FieldType.LONG_TEXT,
    "translated_html": FieldType.LONG_TEXT,
    "ph_number": FieldType.PHONE,
    "phone_number_e164": FieldType.PHONE,
    "email": FieldType.EMAIL,
    "url": FieldType.URL,
    "integer": FieldType.NUMBER,
    "decimal": FieldType.NUMBER,
    "float": FieldType.NUMBER,
    "longint": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "glide_date": FieldType.DATE,
    "glide_date_time": FieldType.DATETIME,
    "due_date": FieldType.DATETIME,
    "choice": FieldType.PICKLIST,
    "reference": FieldType.REFERENCE,
}
_MAX_PAGES = 10
_FIELDS_TTL = 300.0


@dataclass(frozen=True)
class ServiceNowSettings:
    """A configuration's non-secret ServiceNow settings."""

    instance: str
    api_base: str
    token_url: str
    auth: str = "basic"  # "basic" | "oauth"
    api_version: str = ""  # "" (latest), "v1", "v2"
    caller_tables: tuple[str, ...] = ("sys_user",)
    # (table, field pointing at the person) listed as the person's related records
    related_tables: tuple[tuple[str, str], ...] = (("incident", "caller_id"),)
    journal_tables: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {
                "incident",
                "sn_customerservice_case",
                "problem",
                "change_request",
                "interaction",
                "task",
                "sc_req_item",
                "sc_task",
                "hr_case",
            }
        )
    )
    journal_field: str = "work_notes"
    timeline_table: str = "interaction"
    timeout: float = 10.0

    @property
    def ui_base(self) -> str:
        return f"https://{self.instance}.service-now.com"

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> ServiceNowSettings:
        instance = str(settings.get("instance") or "").strip().lower()
        if not instance or not check_table(instance.replace("-", "_")):
            raise ConfigError(
                "ServiceNow needs the instance name (acme in acme.service-now.com)",
                field="instance",
            )
        auth = str(settings.get("auth") or "basic").lower()
        if auth not in ("basic", "oauth"):
            raise ConfigError("auth must be basic or oauth", field="auth")
        version = str(settings.get("api_version") or "")
        if version not in ("", "v1", "v2"):
            raise ConfigError("api_version must be empty, v1 or v2", field="api_version")
        api_base = str(settings.get("api_base") or f"https://{instance}.service-now.com")
        api_base = api_base.rstrip("/")
        related = settings.get("related_tables")
        extra: dict[str, Any] = {}
        if related is not None:
            extra["related_tables"] = tuple((check_table(t), f) for t, f in related)
        if settings.get("journal_tables") is not None:
            extra["journal_tables"] = frozenset(settings["journal_tables"])
        return cls(
            instance=instance,
            api_base=api_base,
            auth=auth,
            api_version=version,
            token_url=str(settings.get("token_url") or f"{api_base}/oauth_token.do"),
            caller_tables=tuple(
                check_table(t) for t in settings.get("caller_tables") or ("sys_user",)
            ),
            journal_field=str(settings.get("journal_field") or "work_notes"),
            timeline_table=check_table(str(settings.get("timeline_table") or "interaction")),
            timeout=float(settings.get("timeout_seconds") or 10.0),
            **extra,
        )


# --- pure mappings ------------------------------------------------------------------------


def servicenow_error(response: httpx.Response, secrets: Sequence[str] = ()) -> CrmError:
    """The project error for a ServiceNow error reply (``{"error": {"message", "detail"}}``),
    the vendor's words in ``vendor_message`` with any secret blanked."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = " - ".join(
            str(part) for part in (error.get("message"), error.get("detail")) if part
        )
    else:
        message = response.text or response.reason_phrase
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    status = response.status_code
    kw: dict[str, Any] = {"vendor_status": status, "vendor_message": safe_text(message)}
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None and response.headers.get("X-RateLimit-Reset", "").isdigit():
            wait = max(0.0, float(response.headers["X-RateLimit-Reset"]) - time.time())
        return CrmRateLimitedError("ServiceNow rate limit reached", retry_after=wait, **kw)
    if status == 401:
        return CrmAuthError("ServiceNow refused the credentials", **kw)
    if status == 403:
        return CrmRejectedError(
            "ServiceNow refused the request (ACL, business rule or data policy)", **kw
        )
    if status == 404:
        return CrmNotFoundError("ServiceNow record or table not found", **kw)
    if status >= 500:
        return CrmUnavailableError(f"ServiceNow answered {status}", **kw)
    return CrmRejectedError(f"ServiceNow rejected the request ({status})", **kw)


def field_info(raw: Mapping[str, Any]) -> FieldInfo:
    """A ``sys_dictionary`` row as a ``FieldInfo``. Strings longer than 255 characters are
    multi-line text in ServiceNow's UI, so they count as long text."""
    name = str(raw["element"])
    internal = str(raw.get("internal_type") or "string")
    kind = _DICTIONARY_TYPES.get(internal, FieldType.OTHER)
    try:
        max_length = int(raw.get("max_length") or 0) or None
    except ValueError:
        max_length = None
    if kind == FieldType.TEXT and max_length and max_length > 255:
        kind = FieldType.LONG_TEXT
    if kind == FieldType.TEXT and str(raw.get("choice") or "0") not in ("", "0"):
        kind = FieldType.PICKLIST
    if name == "email" and kind == FieldType.TEXT:
        kind = FieldType.EMAIL
    read_only = str(raw.get("read_only")) == "true" or name.startswith("sys_")
    return FieldInfo(
        name=name,
        label=str(raw.get("column_label") or name),
        type=kind,
        max_length=max_length
        if kind
        in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE, FieldType.EMAIL, FieldType.URL)
        else None,
        required=str(raw.get("mandatory")) == "true",
        createable=not read_only,
        updateable=not read_only,
        custom=name.startswith("u_") or name.startswith("x_"),
    )


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


# --- the adapter --------------------------------------------------------------------------


class ServiceNowAdapter:
    """``CrmAdapter`` for ServiceNow."""

    def __init__(
        self,
        settings: ServiceNowSettings,
        secrets: Mapping[str, str],
        http: httpx.AsyncClient,
        *,
        label: str = "ServiceNow",
        default_region: str = "DE",
        refresh_margin: float = 300.0,
        on_token_refresh: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings
        self._secrets = dict(secrets)
        self._http = http
        self._region = default_region
        self._refresh_token: str | None = None
        self._tokens = TokenManager(
            self._mint_token, refresh_margin=refresh_margin, on_refresh=on_token_refresh
        )
        self._system = CrmSystem(type="servicenow", label=label, base_url=settings.ui_base)
        self._fields: dict[str, tuple[float, list[FieldInfo]]] = {}
        prefix = "/api/now" + (f"/{settings.api_version}" if settings.api_version else "")
        self._table_base = settings.api_base + prefix + "/table"

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- auth ---------------------------------------------------------------------------

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        """Refresh-token grant when a refresh token is held, else the password grant."""
        client = {
            "client_id": self._secrets.get("client_id", ""),
            "client_secret": self._secrets.get("client_secret", ""),
        }
        if self._refresh_token:
            data = await self._token_request(
                {**client, "grant_type": "refresh_token", "refresh_token": self._refresh_token},
                refreshing=True,
            )
            if data is not None:
                return self._take_token(data)
            self._refresh_token = None  # expired or revoked: log in again
        data = await self._token_request(
            {
                **client,
                "grant_type": "password",
                "username": self._secrets.get("username", ""),
                "password": self._secrets.get("password", ""),
            },
            refreshing=False,
        )
        assert data is not None
        return self._take_token(data)

    async def _token_request(
        self, form: dict[str, str], *, refreshing: bool
    ) -> dict[str, Any] | None:
        async with translate_transport_errors("ServiceNow"):
            response = await self._http.post(
                self._settings.token_url, data=form, timeout=self._settings.timeout
            )
        if response.status_code < 400:
            return dict(response.json())
        if refreshing and response.status_code in (400, 401):
            return None
        if response.status_code >= 500:
            raise CrmUnavailableError(f"ServiceNow token endpoint answered {response.status_code}")
        raise CrmAuthError(
            "ServiceNow refused the OAuth credentials",
            vendor_status=response.status_code,
            vendor_message=self._scrub(safe_text(response.text)),
        )

    def _take_token(self, data: Mapping[str, Any]) -> tuple[str, float | None, None]:
        if data.get("refresh_token"):
            self._refresh_token = str(data["refresh_token"])
        expires_in = data.get("expires_in")
        return str(data["access_token"]), float(expires_in) if expires_in else None, None

    def _scrub(self, text: str) -> str:
        for secret in [*self._secrets.values(), self._refresh_token or ""]:
            if secret:
                text = text.replace(secret, "***")
        return text

    async def _authorization(self) -> tuple[str, str | None]:
        if self._settings.auth == "basic":
            pair = f"{self._secrets.get('username', '')}:{self._secrets.get('password', '')}"
            return "Basic " + base64.b64encode(pair.encode()).decode(), None
        token = await self._tokens.get()
        self._tokens.start()
        return f"Bearer {token.value}", token.value

    # --- HTTP edge ----------------------------------------------------------------------

    async def _call(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        async def send() -> tuple[httpx.Response, str | None]:
            header, token = await self._authorization()
            async with translate_transport_errors("ServiceNow"):
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    timeout=self._settings.timeout,
                    headers={"Authorization": header, "Accept": "application/json"},
                )
            return response, token

        response = await retry_once_on_401(send, self._tokens.invalidate)
        if response.status_code >= 400:
            raise servicenow_error(response, [*self._secrets.values()])
        return response

    def _fields_param(self, table: str) -> dict[str, str]:
        params = {"sysparm_exclude_reference_link": "true", "sysparm_display_value": "false"}
        if table in DEFAULT_FIELDS:
            params["sysparm_fields"] = ",".join(DEFAULT_FIELDS[table])
        return params

    async def _list(
        self, table: str, query: str, limit: int, accept: Callable[[CrmRecord], bool] | None = None
    ) -> list[CrmRecord]:
        rows = await self._rows(
            table, query, limit if accept is None else max(limit, 50), self._fields_param(table)
        )
        records = [self._record(table, row) for row in rows]
        if accept is not None:
            records = [r for r in records if accept(r)]
        return records[:limit]

    async def _rows(
        self, table: str, query: str, limit: int, params: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` matching ``query``, following the ``Link: rel="next"`` header
        (``sysparm_offset``) until ``limit`` rows or the last page."""
        url = f"{self._table_base}/{check_table(table)}"
        page: dict[str, Any] | None = {
            **params,
            "sysparm_query": query,
            "sysparm_limit": min(limit, 100),
        }
        rows: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            try:
                response = await self._call("GET", url, params=page)
            except CrmNotFoundError:  # v1 answers 404 to a list query without matches
                break
            rows += response.json().get("result") or []
            next_url = response.links.get("next", {}).get("url")
            if len(rows) >= limit or not next_url:
                break
            if not next_url.startswith(self._settings.api_base):
                log.warning("ServiceNow paging link points elsewhere; stopping")
                break
            url, page = next_url, None
        return rows[:limit]

    def _record(self, table: str, row: Mapping[str, Any]) -> CrmRecord:
        fields = {
            k: v for k, v in row.items() if isinstance(v, str | int | float | bool) or v is None
        }
        record_id = str(row["sys_id"])
        parents = {
            PARENT_FIELDS[k]: str(v)
            for k, v in fields.items()
            if k in PARENT_FIELDS and isinstance(v, str) and is_sys_id(v)
        }
        return CrmRecord(
            type=table,
            id=record_id,
            title=self._title(table, fields, record_id),
            url=self.record_url(table, record_id),
            fields=fields,
            updated_at=_parse_time(row.get("sys_updated_on")),
            parent_ids=parents,
        )

    @staticmethod
    def _title(table: str, f: Mapping[str, Any], record_id: str) -> str:
        person = " ".join(str(f.get(k) or "").strip() for k in ("first_name", "last_name"))
        if f.get("name") or person.strip():
            return str(f.get("name") or person.strip())
        if f.get("number"):
            short = str(f.get("short_description") or "").strip()
            return f"{f['number']}: {short}" if short else str(f["number"])
        return str(f.get("short_description") or f"{table} {record_id}")

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
        for table in query.record_types or self._settings.caller_tables:
            check_table(table)
            remaining = query.limit - len(found)
            if remaining <= 0:
                break
            try:
                if isinstance(query, PhoneSearch):
                    found += await self._phone(table, query.number, remaining)
                elif isinstance(query, EmailSearch):
                    encoded = email_query(query.email, EMAIL_FIELDS.get(table, ()))
                    found += await self._list(table, encoded, remaining) if encoded else []
                elif isinstance(query, TextSearch):
                    first, last, whole = NAME_FIELDS.get(table, (None, None, None))
                    encoded = name_query(query.text, first, last, whole)
                    found += await self._list(table, encoded, remaining) if encoded else []
            except QueryValueError:
                # Input a query cannot carry (for example '^'): nothing is searched, so
                # nothing more than asked can ever be found.
                continue
        return found

    async def _phone(self, table: str, number: str, limit: int) -> list[CrmRecord]:
        fields = PHONE_FIELDS.get(table)
        if fields is None:
            fields = tuple(
                f.name for f in await self.list_fields(table) if f.type == FieldType.PHONE
            )
        variants = phone_variants(number, self._region)
        national = ""
        if variants.e164:
            national = phonenumbers.national_significant_number(phonenumbers.parse(variants.e164))
        tail = (national or "".join(ch for ch in number if ch.isdigit()))[-4:]
        encoded = phone_query(variants, tail, fields)
        if not encoded:
            return []

        def same_number(record: CrmRecord) -> bool:
            return any(
                stored_number_matches(str(record.fields.get(f) or ""), variants, self._region)
                for f in fields
            )

        return await self._list(table, encoded, limit, accept=same_number)

    async def _dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        table = check_table(query.record_type)
        encoded = dynamic_query(query.conditions, query.join)
        # An unknown field would be dropped by ServiceNow and widen the search: refuse it.
        known = {f.name for f in await self.list_fields(table)}
        for condition in query.conditions:
            if condition.field.split(".")[0] not in known:
                raise CrmRejectedError(
                    f"{table} has no field {condition.field!r}", field=condition.field
                )
        if encoded is None:
            return []
        return await self._list(table, encoded, query.limit)

    # --- records ------------------------------------------------------------------------

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        table = check_table(record_type)
        if not is_sys_id(record_id):
            raise CrmNotFoundError(f"{record_id!r} is not a ServiceNow sys_id")
        response = await self._call(
            "GET", f"{self._table_base}/{table}/{record_id}", params=self._fields_param(table)
        )
        return self._record(table, response.json()["result"])

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        """People: others of the same company, then their incidents/cases (settings
        ``related_tables``). Task records: the person they belong to."""
        table = check_table(record.type)
        found: list[CrmRecord] = []
        if table in PERSON_TABLES:
            company = record.fields.get("company")
            if isinstance(company, str) and is_sys_id(company):
                peers = f"{term('company', '=', company)}^{term('sys_id', '!=', record.id)}"
                found += await self._list(table, peers, limit)
            for other, link in self._settings.related_tables:
                encoded = order_by_desc(term(link, "=", record.id), "sys_updated_on")
                found += await self._list(other, encoded, limit)
        else:
            for parent_table, parent_id in record.parent_ids.items():
                if parent_table in PERSON_TABLES:
                    try:
                        found.append(await self.get(parent_table, parent_id))
                    except CrmNotFoundError:
                        continue
        return found[:limit]

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        table = check_table(record_type)
        response = await self._call(
            "POST",
            f"{self._table_base}/{table}",
            params=self._fields_param(table),
            json={k: as_form_text(v) for k, v in fields.items()},
        )
        return self._record(table, response.json()["result"])

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        table = check_table(record_type)
        if not is_sys_id(record_id):
            raise CrmNotFoundError(f"{record_id!r} is not a ServiceNow sys_id")
        response = await self._call(
            "PATCH",
            f"{self._table_base}/{table}/{record_id}",
            params=self._fields_param(table),
            json={k: as_form_text(v) for k, v in fields.items()},
        )
        return self._record(table, response.json()["result"])

    # --- timeline -----------------------------------------------------------------------

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        """Task records (incident, case, ...) get a work note; other records (people) get
        an ``interaction`` record with the text as its work note. Either way the entry ends
        with a marker line derived from the key, and the journal (``sys_journal_field``) is
        searched for it first, which reads the database and does not lag."""
        table = check_table(activity.record_type)
        if not is_sys_id(activity.record_id):
            raise CrmNotFoundError(f"{activity.record_id!r} is not a ServiceNow sys_id")
        marker = term("value", "LIKE", timeline_marker(activity.key).split()[-1].rstrip("]"))
        journal = self._settings.journal_field
        if table in self._settings.journal_tables:
            where = "^".join(
                [term("element_id", "=", activity.record_id), term("element", "=", journal), marker]
            )
            entry = await self._journal_entry(where)
            if entry:
                return TimelineRef(id=entry["sys_id"], type=journal, created=False)
            await self.update(table, activity.record_id, {journal: timeline_text(activity)})
            entry = await self._journal_entry(where)
            return TimelineRef(
                id=entry["sys_id"] if entry else activity.record_id, type=journal, created=True
            )
        target = self._settings.timeline_table
        entry = await self._journal_entry(
            "^".join([term("name", "=", target), term("element", "=", journal), marker])
        )
        if entry:
            return TimelineRef(id=entry["element_id"], type=target, created=False)
        created = await self.create(target, self._interaction(activity, table, journal))
        return TimelineRef(id=created.id, type=target, created=True)

    def _interaction(
        self, activity: TimelineActivity, table: str, journal: str
    ) -> dict[str, FieldValue]:
        fields: dict[str, FieldValue] = {
            "type": "phone" if activity.channel == "voice" else "chat",
            "state": "closed_complete",
            "short_description": activity.subject[:160],
            journal: timeline_text(activity),
            "context_table": table,
            "context_document": activity.record_id,
        }
        person_field = INTERACTION_PERSON_FIELD.get(table)
        if person_field:
            fields[person_field] = activity.record_id
        return fields

    async def _journal_entry(self, where: str) -> dict[str, Any] | None:
        rows = await self._rows(
            "sys_journal_field", where, 1, {"sysparm_fields": "sys_id,element_id,name"}
        )
        return rows[0] if rows else None

    # --- metadata -----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        encoded = f"{in_query('name', STANDARD_TABLES)}^NQnameSTARTSWITHu"
        rows = await self._rows("sys_db_object", encoded, 200, {"sysparm_fields": "name,label"})
        return [
            RecordType(
                name=row["name"],
                label=row.get("label") or row["name"],
                standard=not row["name"].startswith("u_"),
                supports_timeline=True,
            )
            for row in rows
            if row["name"] in STANDARD_TABLES or row["name"].startswith("u_")
        ]

    async def _hierarchy(self, table: str) -> list[str]:
        """``table`` and its parents (fields of ``incident`` are defined on ``task``)."""
        rows = await self._rows(
            "sys_db_object",
            term("name", "=", table),
            1,
            {"sysparm_fields": "name,super_class", "sysparm_exclude_reference_link": "true"},
        )
        if not rows:
            raise CrmNotFoundError(f"ServiceNow has no table {table!r}")
        chain = [table]
        parent = rows[0].get("super_class")
        while isinstance(parent, str) and is_sys_id(parent) and len(chain) < 8:
            response = await self._call(
                "GET",
                f"{self._table_base}/sys_db_object/{parent}",
                params={
                    "sysparm_fields": "name,super_class",
                    "sysparm_exclude_reference_link": "true",
                },
            )
            row = response.json()["result"]
            chain.append(str(row["name"]))
            parent = row.get("super_class")
        return chain

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        table = check_table(record_type)
        cached = self._fields.get(table)
        if cached and time.monotonic() - cached[0] < _FIELDS_TTL:
            return cached[1]
        chain = await self._hierarchy(table)
        encoded = f"{in_query('name', chain)}^elementISNOTEMPTY^active=true"
        rows = await self._rows(
            "sys_dictionary",
            encoded,
            1000,
            {
                "sysparm_fields": "name,element,column_label,internal_type,max_length,mandatory,"
                "read_only,reference,choice",
                "sysparm_exclude_reference_link": "true",
            },
        )
        rank = {name: i for i, name in enumerate(chain)}
        rows.sort(key=lambda row: rank.get(str(row.get("name")), 99))  # child wins
        fields: dict[str, FieldInfo] = {}
        for row in rows:
            if row.get("element") and row["element"] not in fields:
                fields[row["element"]] = field_info(row)
        result = list(fields.values())
        self._fields[table] = (time.monotonic(), result)
        return result

    def record_url(self, record_type: str, record_id: str) -> str:
        inner = quote(f"{record_type}.do?sys_id={record_id}", safe="")
        return f"{self._settings.ui_base}/nav_to.do?uri={inner}"

    async def check(self) -> None:
        await self._hierarchy("sys_user")

    async def aclose(self) -> None:
        await self._tokens.aclose()


@register("servicenow")
def create_servicenow_adapter(context: AdapterContext) -> ServiceNowAdapter:
    """Factory for the registry: settings plus ``username``/``password`` and, for OAuth,
    ``client_id``/``client_secret``."""
    settings = ServiceNowSettings.from_mapping(context.settings)
    needed = ["username", "password"] + (
        ["client_id", "client_secret"] if settings.auth == "oauth" else []
    )
    missing = [name for name in needed if not context.secrets.get(name)]
    if missing:
        raise ConfigError(f"ServiceNow needs the secret {missing[0]}", field=missing[0])
    return ServiceNowAdapter(
        settings,
        context.secrets,
        context.http,
        label=context.label,
        default_region=context.default_phone_region,
        on_token_refresh=context.extra.get("on_token_refresh"),
    )
