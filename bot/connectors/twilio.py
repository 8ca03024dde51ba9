"""Pure: Twilio TaskRouter event callbacks -> interaction events.

TaskRouter POSTs each event to the Workspace's ``EventCallbackUrl`` as form fields
(twilio.com/docs/taskrouter/api/event/reference): ``EventType``, ``Sid`` (the event's id,
``EV...``), ``Timestamp``/``EventDateMs``, the Task's fields (``TaskSid``,
``TaskAttributes`` JSON, ``TaskQueueSid``, ``TaskQueueName``, ``TaskChannelUniqueName``,
``TaskCompletedReason``) and the Worker's (``WorkerSid``, ``WorkerName``,
``WorkerAttributes`` JSON), with ``ReservationSid`` on reservation events.

    reservation.accepted  -> started for the worker (a second worker: transferred)
    task.created/updated  -> updated (the caller's data)
    task.wrapup           -> ended, after-call work follows
    task.completed        -> acw_completed (task.canceled -> ended)

A transfer in Flex creates a new Task; Flex keeps the first task's id in
``TaskAttributes.conversations.conversation_id`` (Flex Insights), which is the interaction id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from crm.errors import InputError

from .models import PlatformEvent, TwilioSettings, platform_event

__all__ = ["translate_taskrouter", "valid_signature", "SIGNATURE_HEADER"]

SIGNATURE_HEADER = "X-Twilio-Signature"

_TYPES = {
    "reservation.accepted": "started",
    "task.created": "updated",
    "task.updated": "updated",
    "task.wrapup": "ended",
    "task.completed": "acw_completed",
    "task.canceled": "ended",
}


def valid_signature(url: str, params: Mapping[str, str], signature: str, auth_token: str) -> bool:
    """Twilio's own validator (HMAC-SHA1 of the URL and the sorted form fields)."""
    from twilio.request_validator import RequestValidator  # imported when first used

    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def _json(params: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = params.get(name) or "{}"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise InputError(f"{name}: not valid JSON", code="invalid_field", field=name) from None
    return value if isinstance(value, dict) else {}


def _occurred(params: Mapping[str, str]) -> datetime | None:
    for name, scale in (("EventDateMs", 1000.0), ("Timestamp", 1.0)):
        raw = params.get(name)
        if raw and raw.isdigit():
            return datetime.fromtimestamp(int(raw) / scale, UTC)
    return None


def _data(params: Mapping[str, str], attributes: dict[str, Any], voice: bool) -> dict[str, Any]:
    caller = attributes.get("from") or attributes.get("customerAddress") or ""
    called = attributes.get("to") or ""
    data: dict[str, Any] = {
        "Contact ID": params.get("TaskSid", ""),
        "Skill Name": params.get("TaskQueueName", ""),
        "Skill ID": params.get("TaskQueueSid", ""),
        "Media Type": params.get("TaskChannelUniqueName", ""),
    }
    if voice:
        data |= {"ANI": caller, "DNIS": called}
    else:
        data |= {"From": caller, "To": called, "Channel Type": attributes.get("channelType", "")}
        if attributes.get("name"):
            data["Customer Name"] = attributes["name"]
    direction = attributes.get("direction")
    if direction:
        data["Direction"] = str(direction)
    return {key: value for key, value in data.items() if value not in ("", None)}


def _agent(params: Mapping[str, str], settings: TwilioSettings) -> dict[str, Any]:
    attributes = _json(params, "WorkerAttributes")
    email = attributes.get(settings.email_attribute)
    return {
        "id": params.get("WorkerSid", ""),
        "name": str(attributes.get("full_name") or params.get("WorkerName") or ""),
        "email": str(email) if email else None,
    }


def translate_taskrouter(
    params: Mapping[str, str], settings: TwilioSettings
) -> list[PlatformEvent]:
    """The interaction events of one TaskRouter event callback (none for the events the
    card does not follow: worker activity, workflow, queue events)."""
    event_type = params.get("EventType", "")
    our_type = _TYPES.get(event_type)
    task_sid = params.get("TaskSid", "")
    if our_type is None or not task_sid:
        return []
    attributes = _json(params, "TaskAttributes")
    conversations = attributes.get("conversations")
    interaction_id = (
        str(conversations.get("conversation_id") or task_sid)
        if isinstance(conversations, dict)
        else task_sid
    )
    voice = params.get("TaskChannelUniqueName", "voice") == "voice"
    data = _data(params, attributes, voice)
    if our_type == "ended" and event_type == "task.wrapup":
        data["ACW"] = True
    if our_type == "acw_completed" and isinstance(conversations, dict):
        if conversations.get("outcome"):
            data["Disposition Name"] = str(conversations["outcome"])
    if params.get("TaskCompletedReason") and our_type == "acw_completed":
        data.setdefault("Disposition Notes", params["TaskCompletedReason"])
    body: dict[str, Any] = {
        "type": our_type,
        "eventId": params.get("Sid") or f"{event_type}:{params.get('ResourceSid', task_sid)}",
        "interactionId": interaction_id,
        "contactId": task_sid,
        "channel": "voice" if voice else "digital",
        "data": data,
        "scriptVariables": {
            key: value
            for key, value in attributes.items()
            if isinstance(value, str | int | float | bool)
        },
        "occurredAt": _occurred(params),
    }
    if our_type == "started":
        body["agent"] = _agent(params, settings)
    if event_type == "task.wrapup":
        body["endedBy"] = "agent" if params.get("WorkerSid") else None
    return [platform_event(str(body["eventId"]), body)]
