"""Kustomer's wire format: record types and their attributes, error bodies and rate-limit headers
(pure functions and data, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from ...errors import (
    CrmError,
    CrmNotFoundError,
    CrmRejectedError,
)
from ...http import (
    QuotaHeaders,
    StatusTexts,
    error_for_status,
    parse_retry_after,
    safe_text,
)
from ...models import (
    FieldInfo,
    FieldType,
    FieldValue,
    RecordType,
)

__all__ = [
    "QUOTA_HEADERS",
    "VENDOR",
    "NOTE_MAX",
    "STR_MAX",
    "vendor_message",
    "blamed_field",
    "error_for_response",
    "LIST_FIELDS",
    "record_path",
    "check_id",
    "attributes",
]


VENDOR = "Kustomer"


_TEXTS = StatusTexts(
    VENDOR,
    auth="{vendor} refused the API key",
    denied="The {vendor} API key lacks a role for this action",
)


NOTE_MAX = 10_240  # documented limit of a note body


STR_MAX = 1_024  # documented limit of a custom ``Str`` attribute


_MAX_PAGES = 20


_PATHS = {"customer": "customers", "company": "companies", "conversation": "conversations"}


_RECORD_TYPES = [
    RecordType(name="customer", label="Customer"),
    RecordType(name="company", label="Company"),
    RecordType(name="conversation", label="Conversation"),
]


_STANDARD_FIELDS: dict[str, list[FieldInfo]] = {
    "customer": [
        FieldInfo(name="name", label="Name", type=FieldType.TEXT, max_length=STR_MAX),
        FieldInfo(name="email", label="Email", type=FieldType.EMAIL, max_length=STR_MAX),
        FieldInfo(name="phone", label="Phone", type=FieldType.PHONE, max_length=STR_MAX),
        FieldInfo(name="mobile", label="Mobile", type=FieldType.PHONE, max_length=STR_MAX),
        FieldInfo(
            name="sharedPhone", label="Shared phone", type=FieldType.PHONE, max_length=STR_MAX
        ),
        FieldInfo(name="externalId", label="External ID", type=FieldType.TEXT, max_length=STR_MAX),
        FieldInfo(name="company", label="Company", type=FieldType.REFERENCE),
    ],
    "company": [
        FieldInfo(
            name="name", label="Name", type=FieldType.TEXT, max_length=STR_MAX, required=True
        ),
        FieldInfo(name="externalId", label="External ID", type=FieldType.TEXT, max_length=STR_MAX),
    ],
    "conversation": [
        FieldInfo(
            name="customer",
            label="Customer",
            type=FieldType.REFERENCE,
            required=True,
            updateable=False,
        ),
        FieldInfo(name="name", label="Subject", type=FieldType.TEXT, max_length=STR_MAX),
        FieldInfo(
            name="status",
            label="Status",
            type=FieldType.PICKLIST,
            options=["open", "snoozed", "done"],
        ),
        FieldInfo(name="priority", label="Priority", type=FieldType.NUMBER),
        FieldInfo(name="externalId", label="External ID", type=FieldType.TEXT, max_length=STR_MAX),
    ],
}


# custom attribute name suffix -> (type, max length)
_SUFFIX_TYPES: list[tuple[str, FieldType, int | None]] = [
    ("Str", FieldType.TEXT, STR_MAX),
    ("Txt", FieldType.LONG_TEXT, STR_MAX),
    ("Num", FieldType.NUMBER, None),
    ("At", FieldType.DATETIME, None),
    ("Bool", FieldType.BOOLEAN, None),
    ("Url", FieldType.URL, STR_MAX),
    ("Id", FieldType.REFERENCE, None),
    ("Tree", FieldType.PICKLIST, None),
]


def vendor_message(response: httpx.Response) -> str:
    """Kustomer's words: ``errors[]`` with ``message`` or JSON:API ``title``/``detail``."""
    try:
        body = response.json()
    except ValueError:
        return safe_text(response.text)
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return safe_text(str(body))
    parts = []
    for error in errors:
        if isinstance(error, dict):
            text = error.get("message") or ": ".join(
                str(error[k]) for k in ("title", "detail") if error.get(k)
            )
            pointer = (error.get("source") or {}).get("pointer")
            parts.append(f"{text} ({pointer})" if pointer else str(text))
    return safe_text("; ".join(parts) or response.reason_phrase)


def _reset_wait(response: httpx.Response) -> float | None:
    wait = parse_retry_after(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    raw = response.headers.get("x-ratelimit-reset")
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    if value is None:
        return None
    if value > 1e12:  # epoch milliseconds
        value = value / 1000
    if value > 1e9:  # epoch seconds
        value = value - datetime.now().timestamp()
    return max(0.0, value)


def error_for_response(response: httpx.Response) -> CrmError | None:
    """The project error for a Kustomer reply, ``None`` when it succeeded."""
    if response.status_code < 400:
        return None
    return error_for_status(
        _TEXTS,
        response.status_code,
        message=vendor_message(response),
        field=blamed_field(response),
        retry_after=_reset_wait(response),
    )


def blamed_field(response: httpx.Response) -> str | None:
    """The attribute a JSON:API error names in ``errors[].source.pointer``
    (``/data/attributes/custom/notesStr`` -> ``notesStr``; Kustomer API, "Errors")."""
    try:
        body = response.json()
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors if isinstance(errors, list) else []:
        pointer = (error.get("source") or {}).get("pointer") if isinstance(error, dict) else None
        if isinstance(pointer, str) and pointer.startswith("/data/attributes/"):
            name = pointer.rstrip("/").rsplit("/", 1)[-1]
            if name:
                return name
    return None


def _custom_field(name: str, meta: Mapping[str, Any]) -> FieldInfo:
    kind, limit = FieldType.OTHER, None
    for suffix, suffix_kind, suffix_limit in _SUFFIX_TYPES:
        if name.endswith(suffix):
            kind, limit = suffix_kind, suffix_limit
            break
    options = [
        str(v.get("value", v)) if isinstance(v, dict) else str(v)
        for v in (meta.get("values") or meta.get("enum") or [])
    ]
    return FieldInfo(
        name=name,
        label=str(meta.get("displayName") or name),
        type=kind,
        max_length=limit,
        custom=True,
        options=options,
    )


def _first(items: Any, key: str, *, kind: str | None = None, skip: str | None = None) -> Any:
    for item in items or []:
        if not isinstance(item, dict):
            continue
        if kind is not None and item.get("type") != kind:
            continue
        if skip is not None and item.get("type") == skip:
            continue
        return item.get(key)
    return None


def _relation_id(data: Mapping[str, Any], name: str) -> str | None:
    related = ((data.get("relationships") or {}).get(name) or {}).get("data")
    return str(related["id"]) if isinstance(related, dict) and related.get("id") else None


# customer field -> (identifier list attribute, entry key, entry type)
_IDENTIFIER_LISTS = {
    "email": ("emails", "email", "home"),
    "phone": ("phones", "phone", "work"),
    "mobile": ("phones", "phone", "mobile"),
    "sharedPhone": ("sharedPhones", "phone", "other"),
}
LIST_FIELDS = frozenset(_IDENTIFIER_LISTS)


def record_path(record_type: str) -> str:
    """The API path of a record type (``customers``, ``companies``, ``conversations``)."""
    try:
        return _PATHS[record_type]
    except KeyError:
        raise CrmRejectedError(f"Kustomer has no record type {record_type!r}") from None


def check_id(record_id: str) -> str:
    if not record_id.isalnum():
        raise CrmNotFoundError("Kustomer ids are alphanumeric")
    return record_id


def attributes(
    kind: str, fields: Mapping[str, FieldValue], current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The write body; identifier lists are merged into ``current`` on update."""
    current = current or {}
    body: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    lists = _IDENTIFIER_LISTS
    standard = {f.name for f in _STANDARD_FIELDS[kind]}
    for name, value in fields.items():
        if kind == "customer" and name in lists:
            key, attr, label = lists[name]
            entries = [e for e in body.get(key, current.get(key) or []) if e.get("type") != label]
            if value not in (None, ""):
                entries.append({"type": label, attr: value})
            body[key] = entries
        elif name in standard:
            body[name] = value
        else:
            custom[name] = value
    if custom:
        body["custom"] = custom
    return body


# the org-wide budget per minute
QUOTA_HEADERS = QuotaHeaders(
    remaining="x-ratelimit-remaining",
    limit="x-ratelimit-limit",
    window_seconds=60,
    reset="x-ratelimit-reset",
)
