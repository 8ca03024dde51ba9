"""Salesforce's wire format: sObject ids and field types, error bodies and Task payloads (pure
functions and data, no I/O)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    FieldInfo,
    FieldType,
    TimelineActivity,
)

__all__ = [
    "QUOTA_HEADERS",
    "VENDOR",
    "TASK_SUBJECT_MAX",
    "TASK_DESCRIPTION_MAX",
    "CALL_FIELD_MAX",
    "SubRequest",
    "COMPOSITE_LIMIT",
    "composite_request",
    "composite_bodies",
    "composite_outcomes",
    "data_path",
    "translate_error",
    "task_payload",
]


VENDOR = "Salesforce"


_TEXTS = StatusTexts(
    VENDOR,
    throttled="{vendor} API request limit exceeded",
    auth="{vendor} refused the session ({reason})",
    denied="{answered}{message}",
    not_found="{answered}",
    unavailable="{answered}",
    rejected="{answered}{message}",
    # the daily API allowance is spent: Salesforce answers 403 with this code
    throttle_codes=frozenset({"REQUEST_LIMIT_EXCEEDED"}),
)


_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


# Key prefixes of the standard objects a polymorphic reference (WhoId, WhatId) may point at.
_ID_PREFIXES = {
    "001": "Account",
    "003": "Contact",
    "00Q": "Lead",
    "500": "Case",
    "006": "Opportunity",
}


# Reference fields that say who touched a record, not what it belongs to.
_SYSTEM_REFERENCES = {
    "OwnerId",
    "CreatedById",
    "LastModifiedById",
    "MasterRecordId",
    "RecordTypeId",
    "ReportsToId",
    "IndividualId",
}


# Describe types whose values are not scalars (compound fields) or are binary.
_SKIPPED_TYPES = {"address", "location", "base64", "complexvalue"}


# Standard objects that accept activities (a Task's WhoId or WhatId).
_ACTIVITY_TARGETS = {
    "Contact",
    "Lead",
    "Account",
    "Case",
    "Opportunity",
    "Campaign",
    "Contract",
    "Asset",
}


_FIELD_TYPES = {
    "string": FieldType.TEXT,
    "phone": FieldType.PHONE,
    "email": FieldType.EMAIL,
    "url": FieldType.URL,
    "int": FieldType.NUMBER,
    "double": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "long": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "picklist": FieldType.PICKLIST,
    "multipicklist": FieldType.PICKLIST,
    "combobox": FieldType.PICKLIST,
    "reference": FieldType.REFERENCE,
    "id": FieldType.REFERENCE,
}


_SHORT_TEXT = 255  # a textarea up to this length is a single-line field on the card


TASK_SUBJECT_MAX = 255


TASK_DESCRIPTION_MAX = 32_000


CALL_FIELD_MAX = 255


def translate_error(status: int, body: Any, headers: Mapping[str, str]) -> CrmError:
    """A Salesforce error reply as the project's error type (vendor words kept apart)."""
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    if isinstance(body, dict) and isinstance(body.get("compositeResponse"), list):
        parts = [p for p in body["compositeResponse"] if isinstance(p, dict)]
        return translate_error(status, parts[0].get("body") if parts else None, headers)
    if isinstance(body, dict):  # the OAuth endpoints' shape
        first = {"errorCode": body.get("error", ""), "message": body.get("error_description", "")}
    code = str(first.get("errorCode") or "")
    message = safe_text(str(first.get("message") or ""))
    fields = first.get("fields") or []
    error = error_for_status(
        _TEXTS,
        status,
        message=message or None,
        code=code,
        field=str(fields[0]) if fields else None,
        # Salesforce sends no Retry-After for its API allowance; keep one if a proxy adds it.
        retry_after=parse_retry_after(headers.get("retry-after")),
    )
    return error or CrmRejectedError(f"{VENDOR} answered {status}")


def data_path(version: str, path: str) -> str:
    """A REST resource's host-relative path (``sobjects/Task/`` in v62.0 is
    ``/services/data/v62.0/sobjects/Task/``)."""
    return f"/services/data/v{version}/{path}"


# --- Composite (REST API Developer Guide, "Send Multiple Requests Using Composite",
# POST /services/data/vXX.X/composite; response body: "Composite Response Body") ----------


@dataclass(frozen=True)
class SubRequest:
    """One subrequest of a Composite request: ``path`` as for a plain request (relative to
    the version's resources), ``body`` the JSON it would carry."""

    reference_id: str
    method: str
    path: str
    body: Any = None


COMPOSITE_LIMIT = 25  # subrequests per Composite request ("Composite": "up to 25")


def composite_request(
    version: str, parts: Sequence[SubRequest], *, in_order: bool = False
) -> dict[str, Any]:
    """The Composite request body for ``parts`` (one API call in all). ``allOrNone`` is
    false: a part that fails rolls back only itself, not the others. Salesforce may collate
    (reorder) independent subrequests; ``in_order`` turns that off ("Composite Request
    Body", ``collateSubrequests``), for when two parts change the same record."""
    return {
        "allOrNone": False,
        **({"collateSubrequests": False} if in_order else {}),
        "compositeRequest": [
            {
                "method": part.method,
                "url": data_path(version, part.path),
                "referenceId": part.reference_id,
                **({"body": part.body} if part.body is not None else {}),
            }
            for part in parts
        ],
    }


def _part_error(result: Mapping[str, Any]) -> CrmError:
    headers = result.get("httpHeaders")
    lowered = (
        {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    )
    return translate_error(int(result["httpStatusCode"]), result.get("body"), lowered)


def composite_outcomes(reply: Any, parts: Sequence[SubRequest]) -> dict[str, Any]:
    """Each part's response body, or its ``CrmError``, by reference id, from a Composite
    reply's ``compositeResponse`` (``httpStatusCode``, ``referenceId``, ``body``,
    ``httpHeaders``; "Composite Response Body").

    A failed part is the error a plain reply of that status and body would be
    (``translate_error``: the body is Salesforce's error list). A part the reply does not
    answer is ``CrmUnavailableError``: whether it ran is unknown. A failed entry without a
    ``referenceId`` is about the request as a whole (e.g. more than 25 subrequests:
    ``LIMIT_EXCEEDED``): raised."""
    results = reply.get("compositeResponse") if isinstance(reply, dict) else None
    answered = [
        r for r in results or [] if isinstance(r, dict) and isinstance(r.get("httpStatusCode"), int)
    ]
    for result in answered:
        if result.get("referenceId") is None and result["httpStatusCode"] >= 300:
            raise _part_error(result)
    by_reference = {str(r.get("referenceId")): r for r in answered}
    outcomes: dict[str, Any] = {}
    for part in parts:
        answer = by_reference.get(part.reference_id)
        if answer is None:
            outcomes[part.reference_id] = CrmUnavailableError(
                f"{VENDOR} answered the composite request without the {part.reference_id} part"
            )
        elif answer["httpStatusCode"] >= 300:
            outcomes[part.reference_id] = _part_error(answer)
        else:
            outcomes[part.reference_id] = answer.get("body")
    return outcomes


def composite_bodies(reply: Any, parts: Sequence[SubRequest]) -> dict[str, Any]:
    """Each part's response body by reference id (``composite_outcomes``); a part that
    failed or was not answered raises its error, the first in request order."""
    outcomes = composite_outcomes(reply, parts)
    for outcome in outcomes.values():
        if isinstance(outcome, CrmError):
            raise outcome
    return outcomes


def _timeline_key(key: str) -> str:
    # CallObject holds 255 characters; longer keys are hashed so they stay unique.
    if len(key) <= CALL_FIELD_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _description(activity: TimelineActivity) -> str:
    lines = [activity.notes or ""]
    details = [
        ("Direction", activity.direction),
        ("Channel", activity.channel),
        ("Phone", activity.phone_number),
        ("Agent", activity.agent_name),
        ("Disposition", activity.disposition),
        ("Started", activity.started_at.isoformat() if activity.started_at else None),
        ("Ended", activity.ended_at.isoformat() if activity.ended_at else None),
    ]
    extra = "\n".join(f"{label}: {value}" for label, value in details if value)
    text = "\n\n".join(part for part in (lines[0].strip(), extra) if part)
    return text[:TASK_DESCRIPTION_MAX]


def task_payload(activity: TimelineActivity, key_field: str = "CallObject") -> dict[str, Any]:
    """The Task body for an activity: linked by WhoId (person) or WhatId (anything else),
    with the idempotency key in ``key_field`` (CallObject unless configured)."""
    payload: dict[str, Any] = {
        "Subject": activity.subject[:TASK_SUBJECT_MAX],
        "Status": "Completed",
        "Priority": "Normal",
        "Description": _description(activity),
        "TaskSubtype": "Call" if activity.channel == "voice" else "Task",
        key_field: _timeline_key(activity.key),
    }
    link = "WhoId" if activity.record_type in ("Contact", "Lead") else "WhatId"
    payload[link] = activity.record_id
    if activity.started_at:
        payload["ActivityDate"] = activity.started_at.date().isoformat()
    if activity.channel == "voice":
        if activity.direction:
            payload["CallType"] = activity.direction.capitalize()
        if activity.duration_seconds is not None:
            payload["CallDurationInSeconds"] = int(activity.duration_seconds)
        if activity.disposition:
            payload["CallDisposition"] = activity.disposition[:CALL_FIELD_MAX]
    return payload


def _field_info(raw: Mapping[str, Any]) -> FieldInfo:
    kind = str(raw.get("type") or "")
    length = int(raw.get("length") or 0) or None
    if kind == "textarea":
        field_type = FieldType.LONG_TEXT if (length or 0) > _SHORT_TEXT else FieldType.TEXT
    else:
        field_type = _FIELD_TYPES.get(kind, FieldType.OTHER)
    createable = bool(raw.get("createable"))
    return FieldInfo(
        name=str(raw["name"]),
        label=str(raw.get("label") or raw["name"]),
        type=field_type,
        max_length=length
        if field_type
        in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE, FieldType.EMAIL, FieldType.URL)
        else None,
        required=createable
        and not raw.get("nillable", True)
        and not raw.get("defaultedOnCreate", False),
        createable=createable,
        updateable=bool(raw.get("updateable")),
        custom=bool(raw.get("custom")),
        options=[
            str(v.get("value")) for v in raw.get("picklistValues") or [] if v.get("active", True)
        ],
    )


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {"message": safe_text(response.text, 200)}


# Sforce-Limit-Info: api-usage=<used>/<limit> over a rolling 24 hours: a cap, not a pace
QUOTA_HEADERS = QuotaHeaders(usage="Sforce-Limit-Info", window_seconds=86_400, paces=False)
