"""Dataverse's wire format: tables, attribute types, error bodies and activity payloads (pure
functions and data, no I/O)."""

from __future__ import annotations

import email.parser
import email.policy
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from ...errors import (
    CrmError,
    CrmRejectedError,
    CrmUnavailableError,
)
from ...http import (
    QuotaHeaders,
    StatusTexts,
    error_for_status,
    parse_retry_after,
    safe_text,
)
from ...models import (
    FieldType,
    TimelineActivity,
)
from ...phone import PhoneVariants, stored_number_matches
from .settings import DynamicsSettings

__all__ = [
    "QUOTA_HEADERS",
    "VENDOR",
    "Table",
    "STANDARD_TABLES",
    "translate_error",
    "key_marker",
    "carries_key",
    "phone_matches",
    "missing_table_settings",
    "missing_table_warning",
    "activity_payload",
    "BatchOperation",
    "BatchReply",
    "build_batch",
    "parse_batch",
    "created_id",
]


VENDOR = "Dynamics 365"


_TEXTS = StatusTexts(
    VENDOR,
    throttled="{vendor} service protection limit reached",
    auth="{vendor} refused the access token",
    denied="{answered}{message}",
    not_found="{answered}",
    unavailable="{answered}",
    rejected="{answered}{message}",
)


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


def translate_error(status: int, body: Any, headers: Mapping[str, str]) -> CrmError:
    """A Dataverse error reply as the project's error type (vendor words kept apart)."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or "")
    message = safe_text(str(error.get("message") or ""))
    match = _FIELD_PROPERTY.search(message)
    error = error_for_status(
        _TEXTS,
        status,
        message=message or None,
        code=code,
        field=match.group(1) if match and status == 400 else None,
        retry_after=parse_retry_after(headers.get("retry-after")),
    )
    return error or CrmRejectedError(f"{VENDOR} answered {status}")


def key_marker(key: str) -> str:
    """The line that carries an activity's idempotency key in its description."""
    return f"[customer-card:{key}]"


def missing_table_settings(settings: DynamicsSettings) -> list[tuple[str, str]]:
    """(setting, table) of every table the configuration names: the configuration test
    checks that the organization has each."""
    tables = [("caller_record_types", name) for name in settings.caller_record_types]
    return [*tables, ("timeline_activity", settings.timeline_activity)]


def missing_table_warning(setting: str, table: str) -> str:
    """The configuration test's warning for a table the organization lacks."""
    if setting == "caller_record_types":
        effect = "caller searches skip it"
    else:
        effect = "timeline write-backs fail until it exists or the setting changes"
    return (
        f"{setting}: this Dataverse organization has no table '{table}' (an app such as "
        f"Dynamics 365 Sales is not installed); {effect}."
    )


def phone_matches(
    row: Mapping[str, Any], table: Table, variants: PhoneVariants, region: str
) -> bool:
    """Whether one of the row's phone columns holds the number (the query's digit pattern
    over-approximates)."""
    return any(
        stored_number_matches(str(row.get(f) or ""), variants, region) for f in table.phone_fields
    )


def carries_key(row: Mapping[str, Any], activity: TimelineActivity, key_field: str | None) -> bool:
    """Whether an activity row the look-up returned really is this activity: its key column
    (or its description's marker and regarding row) says so. One wrong reply must not count
    as written, or the activity is silently dropped."""
    if key_field:
        return row.get(key_field) == activity.key
    regarding = str(row.get("_regardingobjectid_value") or "").lower()
    return regarding == activity.record_id.lower() and key_marker(activity.key) in str(
        row.get("description") or ""
    )


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


def _json(response: httpx.Response) -> Any:
    return _json_bytes(response.content)


def _json_bytes(content: bytes) -> Any:
    """A reply body's JSON; ``{}`` when empty, an OData-shaped error holding the text when
    it is not JSON (a gateway's HTML page)."""
    if not content.strip():
        return {}
    try:
        return json.loads(content)
    except ValueError:
        return {"error": {"message": safe_text(content.decode("utf-8", "replace"), 200)}}


_ENTITY_ID = re.compile(r"\(([0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12})\)\s*$")


def created_id(headers: Mapping[str, str]) -> str | None:
    """The id of the row a create made, from the reply's ``OData-EntityId`` header
    (``.../phonecalls(<guid>)``): Dataverse answers a create ``204 No Content`` with it, in
    a batch part as in a plain reply (Microsoft Learn, "Create a table row using the Web
    API")."""
    match = _ENTITY_ID.search(headers.get("odata-entityid") or "")
    return match.group(1).lower() if match else None


# --- $batch ------------------------------------------------------------------------------
# Microsoft Learn, "Execute batch operations using the Web API" (Dataverse) and OData v4.0
# part 1, 11.7 "Batch Requests": a multipart/mixed body, one application/http part per
# request; the reply is multipart/mixed too, one part per request in the same order, each
# an HTTP status line, headers and body. Built by hand: Microsoft's own Python SDK
# (PowerPlatform-Dataverse-Client) has a batch builder, but only inside its own client,
# with its own HTTP session (requests or aiohttp) and azure-identity credentials; it cannot
# ride on this adapter's httpx transport, token manager (MSAL or a token_url), CA bundle and
# quota observation, so the two functions below build and read the body themselves.


@dataclass(frozen=True)
class BatchOperation:
    """One request of a batch: also sent alone as a plain request when it is the only one."""

    method: str
    url: str  # absolute: Dataverse takes absolute or /api/data/... URLs in a part
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchReply:
    """One part of a batch reply: its status, headers (case-insensitive) and JSON body."""

    status: int
    headers: httpx.Headers
    body: Any

    @property
    def error(self) -> CrmError | None:
        """The part's failure through the same table as a plain reply's; ``None`` below 400."""
        return translate_error(self.status, self.body, self.headers) if self.status >= 400 else None


def build_batch(operations: Sequence[BatchOperation], boundary: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a ``$batch`` request sending ``operations`` in order, none in a
    change set. JSON is ASCII-escaped, so the body is plain ASCII with CRLF line ends."""
    lines: list[str] = []
    for op in operations:
        headers = dict(op.headers)
        if op.body is not None:
            headers["Content-Type"] = "application/json; type=entry"
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            f"{op.method} {op.url} HTTP/1.1",
            *(f"{name}: {value}" for name, value in headers.items()),
            "",
            json.dumps(op.body) if op.body is not None else "",
        ]
    lines.append(f"--{boundary}--")
    return f'multipart/mixed; boundary="{boundary}"', ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_batch(content_type: str, content: bytes) -> list[BatchReply]:
    """The parts of a ``$batch`` reply in order (a change set's parts in its place). The
    stdlib ``email`` parser splits the MIME parts; each part's HTTP message is read here."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + content
    )
    if not message.is_multipart():
        raise _unreadable("is not multipart")
    replies: list[BatchReply] = []
    for part in message.walk():
        if part.is_multipart():
            continue  # the batch itself, or a change set: its parts follow in the walk
        if part.get_content_type() != "application/http":
            raise _unreadable(f"has a {part.get_content_type()} part")
        payload = part.get_payload(decode=True)
        replies.append(_http_reply(payload if isinstance(payload, bytes) else b""))
    return replies


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _http_reply(raw: bytes) -> BatchReply:
    blank = _BLANK_LINE.search(raw)
    head, body = (raw[: blank.start()], raw[blank.end() :]) if blank else (raw, b"")
    status_line, *header_lines = head.decode("latin-1").splitlines() or [""]
    words = status_line.split(" ", 2)
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
        raise _unreadable("has a part without a status line")
    pairs = (line.partition(":") for line in header_lines if ":" in line)
    headers = httpx.Headers([(name.strip(), value.strip()) for name, _, value in pairs])
    return BatchReply(int(words[1]), headers, _json_bytes(body))


def _unreadable(what: str) -> CrmUnavailableError:
    return CrmUnavailableError(f"{VENDOR} answered a batch with a reply that {what}")


# service protection: 429 + Retry-After is the signal; the remaining-requests header is
# "for debugging, not for pacing" (5-minute sliding window): only a stop at zero
QUOTA_HEADERS = QuotaHeaders(
    remaining="x-ms-ratelimit-burst-remaining-xrm-requests", window_seconds=300, paces=False
)
