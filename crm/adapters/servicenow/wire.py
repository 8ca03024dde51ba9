"""ServiceNow's wire format: tables and their fields, dictionary types and error bodies (pure
functions and data, no I/O)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from ...errors import (
    CrmError,
    CrmRejectedError,
)
from ...http import (
    QuotaHeaders,
    StatusTexts,
    error_for_status,
    json_body,
    parse_retry_after,
    redact,
    safe_text,
)
from ...models import (
    CrmRecord,
    FieldInfo,
    FieldType,
    FieldValue,
    TimelineActivity,
)
from .query import is_sys_id, timeline_text

__all__ = [
    "QUOTA_HEADERS",
    "record_title",
    "PERSON_TABLES",
    "DEFAULT_FIELDS",
    "NAME_FIELDS",
    "PHONE_FIELDS",
    "EMAIL_FIELDS",
    "PARENT_FIELDS",
    "INTERACTION_PERSON_FIELD",
    "STANDARD_TABLES",
    "servicenow_error",
    "field_info",
    "policy_field",
    "ID_ONLY",
    "fields_param",
    "nav_url",
    "parse_record",
    "interaction_fields",
]


_TEXTS = StatusTexts(
    "ServiceNow",
    throttled="{vendor} rate limit reached",
    denied="{vendor} refused the request (ACL, business rule or data policy)",
    not_found="{vendor} record or table not found",
)


PERSON_TABLES = frozenset({"sys_user", "customer_contact", "csm_consumer"})


# the fields of a person read by default; each person table adds its own
_PERSON_FIELDS = (
    "sys_id",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile_phone",
    "title",
    "company",
)
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "sys_user": (*_PERSON_FIELDS, "user_name", "sys_updated_on"),
    "customer_contact": (*_PERSON_FIELDS, "account", "sys_updated_on"),
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
# pages of 100 candidates a phone search reads before giving up (the tail-digit query only
# narrows them; each is checked against the number)
_MAX_CANDIDATE_PAGES = 100


_FIELDS_TTL = 300.0

# a write's reply: the sys_id alone (the record is not read back)
ID_ONLY = {"sysparm_fields": "sys_id", "sysparm_exclude_reference_link": "true"}


def servicenow_error(response: httpx.Response, secrets: Sequence[str] = ()) -> CrmError:
    """The project error for a ServiceNow error reply (``{"error": {"message", "detail"}}``),
    the vendor's words in ``vendor_message`` with any secret blanked."""
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = " - ".join(
            str(part) for part in (error.get("message"), error.get("detail")) if part
        )
    else:
        message = response.text or response.reason_phrase
    wait = parse_retry_after(response.headers.get("Retry-After"))
    if wait is None and response.headers.get("X-RateLimit-Reset", "").isdigit():
        wait = max(0.0, float(response.headers["X-RateLimit-Reset"]) - time.time())
    found = error_for_status(
        _TEXTS,
        response.status_code,
        message=safe_text(redact(message, secrets)),
        retry_after=wait,
    )
    # only error replies come here; a 3xx that does is refused as the vendor's answer
    return found or CrmRejectedError(f"ServiceNow answered {response.status_code}")


def policy_field(
    message: str, labels: Mapping[str, str], written: Iterable[str] = ()
) -> str | None:
    """The field a data policy's refusal names (a ``403`` whose detail is "Data Policy
    Exception: Short description is mandatory", or "... The following fields are mandatory:
    Resolution code, ..."). ServiceNow names fields by their label; ``labels`` maps field
    names to labels (``sys_dictionary``). A field of the write is preferred."""
    _, found, named = message.partition("Data Policy Exception:")
    if not found:
        return None
    listed = {part.strip() for part in named.partition("mandatory:")[2].split(",")}
    for name in [*written, *labels]:
        label = labels.get(name)
        if label and (f"{label} is mandatory" in named or label in listed):
            return name
    return None


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


def record_title(table: str, f: Mapping[str, Any], record_id: str) -> str:
    """A row's title: a person's or record's name, else its number and short description."""
    person = " ".join(str(f.get(k) or "").strip() for k in ("first_name", "last_name"))
    if f.get("name") or person.strip():
        return str(f.get("name") or person.strip())
    if f.get("number"):
        short = str(f.get("short_description") or "").strip()
        return f"{f['number']}: {short}" if short else str(f["number"])
    return str(f.get("short_description") or f"{table} {record_id}")


def fields_param(table: str) -> dict[str, str]:
    """The Table API parameters of a read: raw values, the table's default fields."""
    params = {"sysparm_exclude_reference_link": "true", "sysparm_display_value": "false"}
    if table in DEFAULT_FIELDS:
        params["sysparm_fields"] = ",".join(DEFAULT_FIELDS[table])
    return params


def nav_url(ui_base: str, record_type: str, record_id: str) -> str:
    inner = quote(f"{record_type}.do?sys_id={record_id}", safe="")
    return f"{ui_base}/nav_to.do?uri={inner}"


def parse_record(table: str, row: Mapping[str, Any], ui_base: str) -> CrmRecord:
    """A Table API row as a ``CrmRecord``: its scalar values, its parents by sys_id."""
    fields = {k: v for k, v in row.items() if isinstance(v, str | int | float | bool) or v is None}
    record_id = str(row["sys_id"])
    parents = {
        PARENT_FIELDS[k]: str(v)
        for k, v in fields.items()
        if k in PARENT_FIELDS and isinstance(v, str) and is_sys_id(v)
    }
    return CrmRecord(
        type=table,
        id=record_id,
        title=record_title(table, fields, record_id),
        url=nav_url(ui_base, table, record_id),
        fields=fields,
        updated_at=_parse_time(row.get("sys_updated_on")),
        parent_ids=parents,
    )


def interaction_fields(
    activity: TimelineActivity, table: str, journal: str
) -> dict[str, FieldValue]:
    """An ``interaction`` record for an activity on a record without a journal (a person):
    closed, the text as its journal entry, in the context of the record."""
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


# admin rules: X-RateLimit-Limit per hour, X-RateLimit-Reset (Unix time); no remaining count,
# so only Retry-After paces
QUOTA_HEADERS = QuotaHeaders(
    limit="X-RateLimit-Limit", window_seconds=3600, reset="X-RateLimit-Reset"
)
