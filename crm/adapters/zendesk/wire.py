"""Zendesk's wire format: record types and their fields, error bodies and value conversions (pure
functions and data, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import phonenumbers

from ...activity_text import format_activity
from ...errors import (
    CrmError,
    CrmNotFoundError,
    CrmRejectedError,
    InputError,
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
    TimelineActivity,
)
from ...phone import digits_only

__all__ = [
    "QUOTA_HEADERS",
    "VENDOR",
    "API_TOKEN_SUNSET",
    "COMMENT_MAX",
    "USER_STANDARD",
    "ORG_STANDARD",
    "TICKET_STANDARD",
    "vendor_message",
    "refused_field",
    "error_for_response",
    "record_path",
    "check_id",
    "record_payload",
    "internal_note",
    "activity_ticket",
]


VENDOR = "Zendesk"


_TEXTS = StatusTexts(VENDOR)


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


def refused_field(response: httpx.Response) -> str | None:
    """The field a validation error names: ``422`` ``RecordInvalid`` keys its ``details`` by
    the attribute (``{"details": {"status": [{"description": "Status: closed prevents
    ticket update"}]}}``); ``base`` is the record as a whole."""
    try:
        body = response.json()
    except ValueError:
        return None
    details = body.get("details") if isinstance(body, dict) else None
    if not isinstance(details, dict):
        return None
    return next((str(name) for name in details if name != "base"), None)


def error_for_response(response: httpx.Response) -> CrmError | None:
    """The project error for a Zendesk reply, ``None`` when it succeeded."""
    if response.status_code < 400:
        return None
    return error_for_status(
        _TEXTS,
        response.status_code,
        message=vendor_message(response),
        field=refused_field(response),
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


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


def record_path(record_type: str) -> str:
    """The API path of a record type (``users``, ``organizations``, ``tickets``)."""
    if record_type not in _RECORD_TYPES:
        raise CrmRejectedError(f"Zendesk has no record type {record_type!r}")
    return f"{record_type}s"


def check_id(record_id: str) -> str:
    if not record_id.isdigit():
        raise CrmNotFoundError("Zendesk ids are numbers")
    return record_id


def record_payload(kind: str, fields: Mapping[str, FieldValue]) -> dict[str, Any]:
    """A record's values as the body of its Create/Update request: a ticket's standard
    fields, ``custom_fields`` and ``comment``; a user's or organization's standard fields
    and ``user_fields``/``organization_fields``."""
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
                custom.append({"id": _as_id(name.removeprefix("custom_field_")), "value": value})
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
            body[name] = _as_id(value) if name.endswith("_id") and name != "external_id" else value
        else:
            body.setdefault(extra_key, {})[name] = value
    return body


def internal_note(activity: TimelineActivity) -> dict[str, Any]:
    """The activity's text as a ticket comment only agents see (``public: false``)."""
    return {"body": format_activity(activity, COMMENT_MAX), "public": False}


def activity_ticket(activity: TimelineActivity, owner: str, status: str | None) -> dict[str, Any]:
    """The ticket that records an activity on a user (its requester) or an organization:
    the key as ``external_id`` (so a retry finds it), the text as an internal note."""
    ticket: dict[str, Any] = {
        "subject": activity.subject[:255],
        "external_id": activity.key,
        "comment": internal_note(activity),
        "tags": ["customer_card", activity.channel],
    }
    ticket["requester_id" if activity.record_type == "user" else "organization_id"] = int(owner)
    if status:
        ticket["status"] = status
    return ticket


# account-wide requests per minute; list endpoints also send ratelimit-reset (seconds)
QUOTA_HEADERS = QuotaHeaders(
    remaining="X-Rate-Limit-Remaining",
    limit="X-Rate-Limit",
    window_seconds=60,
    reset="ratelimit-reset",
)
