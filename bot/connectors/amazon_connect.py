"""Pure: Amazon Connect contact events, as EventBridge delivers them -> interaction events.

EventBridge wraps each event (docs.aws.amazon.com/connect/latest/adminguide/
contact-events.html): ``id`` (the event's id), ``detail-type`` "Amazon Connect Contact
Event", ``source`` "aws.connect", ``time`` and ``detail`` with ``eventType``,
``contactId``, ``initialContactId``, ``previousContactId``, ``channel``, ``instanceArn``,
``initiationMethod``, ``queueInfo`` {``queueArn``}, ``agentInfo`` {``agentArn``} and
timestamps.

    CONNECTED_TO_AGENT                     -> started for the agent (another agent: transferred)
    INITIATED, QUEUED, CONTACT_DATA_UPDATED -> updated (a transfer's INITIATED opens a new leg)
    DISCONNECTED                           -> ended (after-contact work follows)
    COMPLETED                              -> acw_completed

The interaction is the contact chain (``initialContactId``): a transfer is a new contact
of the same chain. The event carries no caller number and no attributes: the connector
adds them from the Amazon Connect API (:mod:`.connect_api`) as :class:`ContactDetails`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm.errors import InputError

from .models import AmazonConnectSettings, PlatformEvent, platform_event

__all__ = ["ContactDetails", "ContactEvent", "parse_contact_event", "translate_contact_event"]

DETAIL_TYPE = "Amazon Connect Contact Event"
_TYPES = {
    "CONNECTED_TO_AGENT": "started",
    "INITIATED": "updated",
    "QUEUED": "updated",
    "CONTACT_DATA_UPDATED": "updated",
    "DISCONNECTED": "ended",
    "COMPLETED": "acw_completed",
}


@dataclass(frozen=True)
class ContactEvent:
    """The parts of an EventBridge contact event the connector uses."""

    event_id: str
    event_type: str
    contact_id: str
    initial_contact_id: str
    instance_arn: str
    channel: str
    occurred_at: datetime | None
    detail: dict[str, Any]

    @property
    def agent_arn(self) -> str:
        info = self.detail.get("agentInfo") or self.detail.get("AgentInfo") or {}
        return str(info.get("agentArn") or info.get("AgentArn") or "")

    @property
    def queue_arn(self) -> str:
        return str((self.detail.get("queueInfo") or {}).get("queueArn") or "")

    @property
    def followed(self) -> bool:
        """Whether the card follows this event type."""
        return self.event_type in _TYPES


@dataclass(frozen=True)
class ContactDetails:
    """What the Amazon Connect API adds: the contact's attributes, the caller's address,
    the queue's name and the agent's Teams identity."""

    attributes: dict[str, str] = field(default_factory=dict)
    customer_address: str = ""
    queue_name: str = ""
    agent_name: str = ""
    agent_email: str | None = None


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InputError(f"{name}: required", code="invalid_field", field=name)
    return value


def parse_contact_event(body: Any) -> ContactEvent | None:
    """The contact event in an EventBridge delivery; None for any other detail type."""
    if not isinstance(body, dict):
        raise InputError("Body must be a JSON object", code="invalid_field")
    if body.get("detail-type") != DETAIL_TYPE:
        return None
    detail = body.get("detail")
    if not isinstance(detail, dict):
        raise InputError("detail: required", code="invalid_field", field="detail")
    contact_id = _field(detail, "contactId")
    try:
        occurred = datetime.fromisoformat(str(body.get("time")).replace("Z", "+00:00"))
    except ValueError:
        occurred = None
    return ContactEvent(
        event_id=_field(body, "id"),
        event_type=_field(detail, "eventType"),
        contact_id=contact_id,
        initial_contact_id=str(detail.get("initialContactId") or contact_id),
        instance_arn=str(detail.get("instanceArn") or ""),
        channel=str(detail.get("channel") or "VOICE").upper(),
        occurred_at=occurred,
        detail=detail,
    )


def _data(
    event: ContactEvent, details: ContactDetails, settings: AmazonConnectSettings
) -> dict[str, Any]:
    voice = event.channel == "VOICE"
    attributes = details.attributes
    caller = attributes.get(settings.ani_attribute) or details.customer_address
    method = str(event.detail.get("initiationMethod") or "")
    data: dict[str, Any] = {
        "Contact ID": event.contact_id,
        "Media Type": event.channel.lower(),
        "Skill ID": event.queue_arn.rsplit("/", 1)[-1] if event.queue_arn else "",
        "Skill Name": details.queue_name,
        "Direction": {"INBOUND": "inbound", "OUTBOUND": "outbound"}.get(method, ""),
        "Disposition Name": attributes.get(settings.disposition_attribute, ""),
        "Disposition Notes": attributes.get(settings.notes_attribute, ""),
        ("ANI" if voice else "From"): caller,
    }
    if event.event_type == "DISCONNECTED":
        data["ACW"] = True  # COMPLETED follows once after-contact work is done
    return {key: value for key, value in data.items() if value not in ("", None)}


def translate_contact_event(
    event: ContactEvent, details: ContactDetails, settings: AmazonConnectSettings
) -> list[PlatformEvent]:
    """The interaction event of one contact event (none for those the card does not
    follow; a CONNECTED_TO_AGENT without an agent is not an assignment)."""
    our_type = _TYPES.get(event.event_type)
    if our_type is None or (our_type == "started" and not event.agent_arn):
        return []
    body: dict[str, Any] = {
        "type": our_type,
        "eventId": event.event_id,
        "interactionId": event.initial_contact_id,
        "contactId": event.contact_id,
        "channel": "voice" if event.channel == "VOICE" else "digital",
        "data": _data(event, details, settings),
        "scriptVariables": dict(details.attributes),
        "occurredAt": event.occurred_at,
    }
    if our_type == "started":
        # the user id (the ARN's last part): ARNs are longer than an agent id may be
        body["agent"] = {
            "id": event.agent_arn.rsplit("/", 1)[-1],
            "name": details.agent_name,
            "email": details.agent_email,
        }
    return [platform_event(event.event_id, body)]
