"""Pure: Genesys Cloud conversation notifications -> interaction events.

The service subscribes to ``v2.users.{id}.conversations.calls`` (or
``v2.routing.queues.{id}.conversations.calls``) on a Notification API channel; each
notification carries the whole conversation (``eventBody``: ``id`` and ``participants``,
each with ``id``, ``purpose``, ``state``, ``user``/``queue`` {id}, ``ani``/``dnis``/
``address``, ``connectedTime``, ``endTime``, ``disconnectType``, ``wrapupRequired``,
``wrapup`` {code, notes}, ``attributes``; developer.genesys.cloud, Notifications, and the
platform SDKs' ``QueueConversationCallEventTopicCallMediaParticipant``). The same shape
comes from ``GET /api/v2/conversations/calls/{id}``, which the subscriber reads to catch
up after a reconnect.

Genesys gives no event id; each agent participant's transitions are the events, with ids
derived from the conversation, the participant and the transition, so a notification
repeated (or a state read again after a reconnect) is a duplicate:

    agent participant connected          -> started (a later agent: transferred)
    agent participant disconnected       -> ended (wrap-up follows when required);
                                            a transfer away -> updated
    agent participant wrap-up submitted  -> acw_completed (not after a transfer away)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import PlatformEvent, platform_event

__all__ = ["translate_conversation", "topic_names", "agent_user_ids"]

_ENDED = ("disconnected", "terminated")
_CUSTOMER = ("customer", "external")


def topic_names(kind: str, ids: list[str]) -> list[str]:
    """The Notification API topics for the subscribed users or queues."""
    if kind == "queues":
        return [f"v2.routing.queues.{item}.conversations.calls" for item in ids]
    return [f"v2.users.{item}.conversations.calls" for item in ids]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(value: Any) -> str:
    text = str(value or "")
    return text.split(":", 1)[1] if text.startswith(("tel:", "sip:")) else text


def _agents(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        p
        for p in conversation.get("participants") or []
        if isinstance(p, dict) and p.get("purpose") == "agent" and (p.get("user") or {}).get("id")
    ]


def agent_user_ids(conversation: dict[str, Any]) -> list[str]:
    return [str(p["user"]["id"]) for p in _agents(conversation)]


def _base(conversation: dict[str, Any]) -> dict[str, Any]:
    customer: dict[str, Any] = next(
        (p for p in conversation.get("participants") or [] if p.get("purpose") in _CUSTOMER),
        {},
    )
    data = {
        "ANI": _number(customer.get("ani") or customer.get("address")),
        "DNIS": _number(customer.get("dnis")),
        "Direction": str(customer.get("direction") or ""),
        "Contact ID": str(conversation.get("id") or ""),
    }
    return {
        "interactionId": str(conversation["id"]),
        "channel": "voice",
        "data": {k: v for k, v in data.items() if v},
        "scriptVariables": {str(k): str(v) for k, v in (customer.get("attributes") or {}).items()},
    }


def _event(base: dict[str, Any], event_id: str, type_: str, **fields: Any) -> PlatformEvent:
    return platform_event(event_id, {**base, "type": type_, "eventId": event_id, **fields})


def _participant_events(
    base: dict[str, Any], participant: dict[str, Any], emails: dict[str, str]
) -> list[PlatformEvent]:
    user_id = str(participant["user"]["id"])
    pid = str(participant.get("id") or user_id)
    prefix = f"{base['interactionId']}:{pid}"
    queue = str((participant.get("queue") or {}).get("id") or "")
    leg = {
        **base,
        "contactId": pid,
        "data": {**base["data"], **({"Skill ID": queue} if queue else {})},
    }
    events: list[PlatformEvent] = []
    if participant.get("connectedTime") or participant.get("state") == "connected":
        agent = {"id": user_id, "name": participant.get("name") or "", "email": emails.get(user_id)}
        at = _time(participant.get("connectedTime"))
        events.append(_event(leg, f"{prefix}:connected", "started", agent=agent, occurredAt=at))
    if participant.get("state") not in _ENDED:
        return events
    ended_at = _time(participant.get("endTime"))
    disconnect = str(participant.get("disconnectType") or "")
    if disconnect.startswith("transfer"):  # the conversation goes on with another agent
        data = {**leg["data"], "Transferred": True}
        events.append(
            _event(leg, f"{prefix}:disconnected", "updated", data=data, occurredAt=ended_at)
        )
        return events
    ended_by = "agent" if disconnect == "client" else "contact" if disconnect else None
    data = {**leg["data"], "ACW": bool(participant.get("wrapupRequired"))}
    events.append(
        _event(
            leg, f"{prefix}:disconnected", "ended", data=data, endedBy=ended_by, occurredAt=ended_at
        )
    )
    wrapup = participant.get("wrapup")
    if isinstance(wrapup, dict) and (wrapup.get("code") or wrapup.get("notes")):
        disposition = {
            "Disposition Name": str(wrapup.get("name") or wrapup.get("code") or ""),
            "Disposition Notes": str(wrapup.get("notes") or ""),
        }
        data = {**leg["data"], **{k: v for k, v in disposition.items() if v}}
        at = _time(wrapup.get("endTime") or participant.get("endAcwTime"))
        events.append(_event(leg, f"{prefix}:wrapup", "acw_completed", data=data, occurredAt=at))
    return events


def translate_conversation(
    conversation: dict[str, Any], emails: dict[str, str] | None = None
) -> list[PlatformEvent]:
    """The events a conversation's state implies (``emails``: user id -> email/UPN)."""
    if not isinstance(conversation.get("id"), str) or not conversation["id"]:
        return []
    base = _base(conversation)
    return [
        event
        for participant in _agents(conversation)
        for event in _participant_events(base, participant, emails or {})
    ]
