"""HubSpot's wire format: object types, properties, API paths, call payloads and error bodies (pure
functions and data, no I/O)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from ...errors import (
    CrmError,
    CrmRejectedError,
)
from ...http import (
    QuotaHeaders,
    StatusTexts,
    as_form_text,
    error_for_status,
    json_body,
    parse_retry_after,
    redact,
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
    "OBJECT_TYPE_IDS",
    "STANDARD_TYPES",
    "TIMELINE_KEY",
    "MISSING_TIMELINE_KEY",
    "DEFAULT_PROPERTIES",
    "NAME_PROPERTIES",
    "PHONE_TEXT_PROPERTIES",
    "PHONE_CALCULATED_PROPERTIES",
    "EMAIL_PROPERTIES",
    "REQUIRED_PROPERTIES",
    "CALL_ASSOCIATION_TYPES",
    "RELATED_TYPES",
    "TEXT_MAX_LENGTH",
    "HubSpotPaths",
    "TEXTS",
    "blamed_field",
    "hubspot_error",
    "properties_body",
    "call_properties",
    "field_info",
]


TEXTS = StatusTexts(
    "HubSpot",
    throttled="{vendor} rate limit reached",
    auth="{vendor} refused the access token",
    denied="{vendor} denied access (missing scope or permission)",
    not_found="{vendor} record or object type not found",
    rejected="{vendor} rejected the request ({reason})",
)


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

# The call property that holds an activity's key. HubSpot documents it with calling apps
# (docs/api/create-and-transcribe-call-recordings: "matches the hs_call_external_id property
# in the engagements API call"); it is not in every account's call properties, so the
# configuration test checks it is there.
TIMELINE_KEY = "hs_call_external_id"
MISSING_TIMELINE_KEY = (
    f"timeline: this HubSpot account's calls have no property '{TIMELINE_KEY}', which holds "
    "each activity's key so a retry does not log a call twice; timeline write-backs fail "
    "until it exists (see docs/crm-hubspot.md)."
)


_VERSION = re.compile(r"v\d+|\d{4}-\d{2}")


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

    def batch_update(self, object_type: str) -> str:
        return f"{self.objects(object_type)}/batch/update"

    def batch_create(self, object_type: str) -> str:
        return f"{self.objects(object_type)}/batch/create"

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


def properties_body(fields: Mapping[str, FieldValue]) -> dict[str, Any]:
    """A create or update body: the values as HubSpot's form text, under ``properties``."""
    return {"properties": {name: as_form_text(value) for name, value in fields.items()}}


def hubspot_error(response: httpx.Response, secrets: Sequence[str] = ()) -> CrmError:
    """The project error for a HubSpot error reply; the vendor's words go to
    ``vendor_message`` (with any secret blanked), a short safe text to ``detail``."""
    body = json_body(response)
    body = body if isinstance(body, dict) else {}
    message = redact(str(body.get("message") or response.text or response.reason_phrase), secrets)
    correlation = body.get("correlationId")
    error = error_for_status(
        TEXTS,
        response.status_code,
        message=safe_text(f"{message} (correlationId {correlation})" if correlation else message),
        code=str(body.get("category") or body.get("errorType") or ""),
        field=blamed_field(body),
        retry_after=_rate_limit_wait(response, body),
    )
    # only error replies come here; a 3xx that does is refused as the vendor's answer
    return error or CrmRejectedError(f"HubSpot answered {response.status_code}")


def blamed_field(body: Mapping[str, Any]) -> str | None:
    """The property an error reply blames: ``errors[].in`` (HubSpot docs, "Error handling":
    ``{"errors": [{"message": ..., "in": "name"}], "category": "VALIDATION_ERROR"}``)."""
    for item in body.get("errors") or []:
        if isinstance(item, dict) and isinstance(item.get("in"), str) and item["in"]:
            return str(item["in"])
    return None


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
        TIMELINE_KEY: activity.key,
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


# the account's rolling burst window (X-HubSpot-RateLimit-Max per Interval-Milliseconds)
QUOTA_HEADERS = QuotaHeaders(
    remaining="X-HubSpot-RateLimit-Remaining",
    limit="X-HubSpot-RateLimit-Max",
    window_ms="X-HubSpot-RateLimit-Interval-Milliseconds",
)
