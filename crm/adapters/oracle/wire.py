"""Oracle B2C Service's wire format: record types and their fields, error bodies, tabular rows
(pure functions and data, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ...activity_text import format_activity
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
    TimelineActivity,
)

__all__ = [
    "QUOTA_HEADERS",
    "VENDOR",
    "THREAD_MAX",
    "COMMENTS_MAX",
    "vendor_message",
    "throttle_wait",
    "error_for_response",
    "rows_to_records",
    "type_spec",
    "check_id",
    "record_payload",
    "task_body",
    "thread_entry",
]


VENDOR = "Oracle B2C Service"


_TEXTS = StatusTexts(
    VENDOR,
    denied="{vendor} denied this to the integration account",
    # osvc-crest-next-request-after on a 403 or 503 is throttling, not a refusal
    throttled_when_waiting=frozenset({403, 503}),
)


THREAD_MAX = 32_000  # thread text limit not published; stay well below the usual MEDIUMTEXT


COMMENTS_MAX = 4_000  # task comments (assumed limit, see docs/crm-oracle.md)


_NEXT_AFTER = "osvc-crest-next-request-after"


_ACCESS_TOKEN = "osvc-crest-api-access-token"


_MAX_WAIT_INLINE = 1.0  # a pause this short is waited out instead of failing the call


_MAX_PAGES = 20


@dataclass(frozen=True)
class _Type:
    collection: str
    label: str
    columns: tuple[tuple[str, str], ...]  # (field name, ROQL path) read by tabular queries
    paths: tuple[tuple[str, str], ...]  # searchable field -> ROQL path
    fields: tuple[FieldInfo, ...]


def _f(name: str, label: str, kind: FieldType, limit: int | None = None, **kw: Any) -> FieldInfo:
    return FieldInfo(name=name, label=label, type=kind, max_length=limit, **kw)


_TYPES: dict[str, _Type] = {
    "contact": _Type(
        "contacts",
        "Contact",
        (
            ("firstName", "name.first"),
            ("lastName", "name.last"),
            ("email", "emails.address"),
            ("phone", "phones.number"),
            ("phoneType", "phones.phoneType.lookupName"),
            ("title", "title"),
            ("organization", "organization.id"),
        ),
        (
            ("firstName", "name.first"),
            ("lastName", "name.last"),
            ("email", "emails.address"),
            ("phone", "phones.number"),
            ("mobile", "phones.number"),
            ("title", "title"),
            ("organization", "organization.id"),
        ),
        (
            _f("firstName", "First name", FieldType.TEXT, 80),
            _f("lastName", "Last name", FieldType.TEXT, 80),
            _f("email", "Email", FieldType.EMAIL, 80),
            _f("phone", "Phone", FieldType.PHONE, 40),
            _f("mobile", "Mobile phone", FieldType.PHONE, 40),
            _f("title", "Title", FieldType.TEXT, 80),
            _f("organization", "Organization", FieldType.REFERENCE),
        ),
    ),
    "organization": _Type(
        "organizations",
        "Organization",
        (("name", "name"),),
        (("name", "name"),),
        (_f("name", "Name", FieldType.TEXT, 255, required=True),),
    ),
    "incident": _Type(
        "incidents",
        "Incident",
        (
            ("subject", "subject"),
            ("referenceNumber", "referenceNumber"),
            ("primaryContact", "primaryContact.id"),
            ("organization", "organization.id"),
            ("status", "statusWithType.status.lookupName"),
            ("description", "threads.text"),
        ),
        (
            ("subject", "subject"),
            ("referenceNumber", "referenceNumber"),
            ("primaryContact", "primaryContact.id"),
            ("organization", "organization.id"),
            ("status", "statusWithType.status.lookupName"),
        ),
        (
            _f(
                "primaryContact",
                "Primary contact",
                FieldType.REFERENCE,
                required=True,
                updateable=False,
            ),
            _f("subject", "Subject", FieldType.TEXT, 240),
            _f(
                "description",
                "Description (first thread entry)",
                FieldType.LONG_TEXT,
                THREAD_MAX,
                updateable=False,
            ),
            _f("status", "Status", FieldType.PICKLIST),
            _f("organization", "Organization", FieldType.REFERENCE),
            _f(
                "referenceNumber",
                "Reference #",
                FieldType.TEXT,
                13,
                createable=False,
                updateable=False,
            ),
        ),
    ),
    "task": _Type(
        "tasks",
        "Task",
        (
            ("name", "name"),
            ("contact", "contact.id"),
            ("organization", "organization.id"),
            ("incident", "incident.id"),
            ("comments", "comments"),
        ),
        (("name", "name"), ("contact", "contact.id"), ("incident", "incident.id")),
        (
            _f("name", "Subject", FieldType.TEXT, 80, required=True),
            _f("contact", "Contact", FieldType.REFERENCE),
            _f("organization", "Organization", FieldType.REFERENCE),
            _f("incident", "Incident", FieldType.REFERENCE),
            _f("comments", "Comments", FieldType.LONG_TEXT, COMMENTS_MAX),
        ),
    ),
}


_REFERENCES = {"organization", "primaryContact", "contact", "incident"}


# phone type ids as shipped (0 office, 1 mobile); see docs/crm-oracle.md
_PHONE_TYPES = {"phone": 0, "mobile": 1}


def type_spec(record_type: str) -> _Type:
    """A record type's collection, columns, searchable paths and fields."""
    try:
        return _TYPES[record_type]
    except KeyError:
        raise CrmRejectedError(f"Oracle B2C Service has no record type {record_type!r}") from None


def check_id(record_id: str) -> str:
    if not record_id.isdigit():
        raise CrmNotFoundError("Oracle B2C Service ids are numbers")
    return record_id


def record_payload(record_type: str, fields: Mapping[str, FieldValue]) -> dict[str, Any]:
    """A record's values as the body of its create or ``PATCH`` request."""
    known = {f.name for f in type_spec(record_type).fields}
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in known:
            raise CrmRejectedError(f"Oracle {record_type} has no field {name!r}", field=name)
        if name in ("firstName", "lastName"):
            body.setdefault("name", {})["first" if name == "firstName" else "last"] = value
        elif name == "email":
            body["emails"] = [{"address": value, "addressType": {"id": 0}}]
        elif name in _PHONE_TYPES:
            body.setdefault("phones", []).append(
                {"number": value, "phoneType": {"id": _PHONE_TYPES[name]}}
            )
        elif name == "description":
            body["threads"] = [{"entryType": {"lookupName": "Note"}, "text": value}]
        elif name == "status":
            body["statusWithType"] = {"status": {"lookupName": value}}
        elif name in _REFERENCES:
            body[name] = {"id": int(str(value))} if str(value).isdigit() else None
        else:
            body[name] = value
    return body


def vendor_message(response: httpx.Response) -> str:
    """Oracle's words: a problem-detail body with an ``o:errorCode`` (OSC-CREST-nnnnn)."""
    try:
        body = response.json()
    except ValueError:
        return safe_text(response.text)
    if not isinstance(body, dict):
        return safe_text(str(body))
    parts = [str(body[k]) for k in ("o:errorCode", "title", "detail") if body.get(k)]
    return safe_text(": ".join(parts) or response.reason_phrase)


def throttle_wait(response: httpx.Response) -> float | None:
    """Seconds from ``osvc-crest-next-request-after`` (milliseconds)."""
    raw = response.headers.get(_NEXT_AFTER)
    try:
        return max(0.0, float(raw) / 1000) if raw else None
    except ValueError:
        return None


def error_for_response(response: httpx.Response) -> CrmError | None:
    """The project error for an Oracle reply, ``None`` when it succeeded."""
    if response.status_code < 400:
        return None
    wait = throttle_wait(response)
    if wait is None and response.status_code == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"))
    return error_for_status(
        _TEXTS, response.status_code, message=vendor_message(response), retry_after=wait
    )


def rows_to_records(table: Mapping[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    """Group tabular rows (one per joined email/phone/thread) into one dict per id."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in table.get("rows") or []:
        values = dict(zip(names, row, strict=False))
        record = grouped.setdefault(str(values["id"]), {"_phones": [], "_emails": []})
        for name, value in values.items():
            if name in ("phone", "phoneType", "email"):
                continue
            record.setdefault(name, value)
        if values.get("email") and values["email"] not in record["_emails"]:
            record["_emails"].append(values["email"])
        if values.get("phone"):
            pair = (values["phone"], str(values.get("phoneType") or ""))
            if pair not in record["_phones"]:
                record["_phones"].append(pair)
    return grouped


# osvc-crest-next-request-after: milliseconds to wait before the next call
QUOTA_HEADERS = QuotaHeaders(wait_ms="osvc-crest-next-request-after")


def task_body(activity: TimelineActivity) -> dict[str, Any]:
    """``POST /tasks``: a task linked to the contact or organization, carrying the
    activity and its key in its comments."""
    if activity.record_type not in ("contact", "organization"):
        raise CrmRejectedError(f"Oracle cannot link an activity to {activity.record_type}")
    return {
        "name": activity.subject[:80],
        activity.record_type: {"id": int(activity.record_id)},
        "comments": format_activity(activity, COMMENTS_MAX),
    }


def thread_entry(activity: TimelineActivity) -> dict[str, Any]:
    """A private note on an incident's thread, carrying the activity and its key."""
    return {"entryType": {"lookupName": "Note"}, "text": format_activity(activity, THREAD_MAX)}
