"""Dataverse's wire format: tables, attribute types, error bodies and activity payloads (pure
functions and data, no I/O)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from ...errors import (
    CrmError,
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


# service protection: 429 + Retry-After is the signal; the remaining-requests header is
# "for debugging, not for pacing" (5-minute sliding window): only a stop at zero
QUOTA_HEADERS = QuotaHeaders(
    remaining="x-ms-ratelimit-burst-remaining-xrm-requests", window_seconds=300, paces=False
)
