"""Pure: a NICE CXone Studio script's workflow-execute call, in the commercial anchor's
request shape (/work/shared/docs/anchor-cxone-model.md §1), -> interaction events and our
workflow execution.

The anchor's body: ``action`` (Search, Create, Update, Timeline, DataMemorialization,
Trigger, relatesTo; matched lower-cased), ``interactionID`` (``interactionId`` on Create),
``contactID``, ``workflowInput``, ``dynamicDataMappingId``, ``dataMappingId``,
``integration[]`` ({entity, entityId}) and ``cxoneContact`` (the contact: agentId,
agentName, ani, dnis, skillName, dispositionName, dispositionNotes, scriptVariables, ...).

* A call that carries ``cxoneContact`` with an ``agentId`` assigns the interaction to that
  agent (``started``; another agent later: ``transferred``).
* ``DataMemorialization`` is the disposition: ``ended`` (after-call work) and
  ``acw_completed`` with the disposition; the card's Current Interaction is written once.
* Search, Create, Update and Timeline run the configuration's workflow as
  ``POST /api/v1/workflows/execute`` would.

CXone gives a script call no event id; the events' ids are derived from the contact, the
stage and the agent, so a Studio retry of the same call is a duplicate.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from crm.workflows import ExecuteRequest

from .cxone_search import custom_search
from .models import CxoneSettings, PlatformEvent, platform_event

__all__ = ["CxoneContact", "CxoneWorkflowCall", "cxone_events", "execute_request", "RUNS"]

RUNS = ("search", "create", "update", "timeline")  # actions that run our workflow
_INPUT_KEYS = ("phoneNumber", "email", "recordType", "entity", "id", "fields", "data")


class CxoneContact(BaseModel):
    """``cxoneContact``: the contact as the script knows it (unknown members kept)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    interaction_id: str | None = Field(default=None, alias="interactionId")
    contact_id: str | None = Field(default=None, alias="contactId")
    master_contact_id: str | None = Field(default=None, alias="masterContactId")
    agent_id: str | None = Field(default=None, alias="agentId", max_length=128)
    agent_name: str | None = Field(default=None, alias="agentName")
    agent_email: str | None = Field(default=None, alias="agentEmail")  # ours, optional
    media_type: str | None = Field(default=None, alias="mediaType")
    direction: str | None = None
    skill_id: str | None = Field(default=None, alias="skillId")
    skill_name: str | None = Field(default=None, alias="skillName")
    disposition_name: str | None = Field(default=None, alias="dispositionName")
    disposition_notes: str | None = Field(default=None, alias="dispositionNotes")
    ani: str | None = None
    dnis: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    customer_name: str | None = Field(default=None, alias="customerName")
    channel_type: str | None = Field(default=None, alias="channelType")
    script_variables: dict[str, Any] = Field(default_factory=dict, alias="scriptVariables")


class CxoneWorkflowCall(BaseModel):
    """The anchor's execute body (the path names configuration and workflow)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    action: str = Field(min_length=1, max_length=40)
    interaction_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("interactionID", "interactionId"),
        max_length=128,
    )
    contact_id: str | None = Field(default=None, alias="contactID", max_length=128)
    workflow_input: dict[str, Any] = Field(default_factory=dict, alias="workflowInput")
    dynamic_data_mapping_id: str | None = Field(default=None, alias="dynamicDataMappingId")
    data_mapping_id: str | None = Field(default=None, alias="dataMappingId")
    integration: list[dict[str, Any]] = Field(default_factory=list)
    cxone_contact: CxoneContact | None = Field(default=None, alias="cxoneContact")

    @property
    def kind(self) -> str:
        return self.action.strip().lower()

    @property
    def interaction(self) -> str:
        contact = self.cxone_contact
        return (
            self.interaction_id
            or (contact.interaction_id if contact else None)
            or self.contact_id
            or (contact.contact_id if contact else None)
            or ""
        )


def _voice(contact: CxoneContact) -> bool:
    media = (contact.media_type or "").strip().lower()
    return media in ("voice", "phonecall", "phone", "4") or (not media and bool(contact.ani))


def _data(contact: CxoneContact, call: CxoneWorkflowCall) -> dict[str, Any]:
    voice = _voice(contact)
    data = {
        "Contact ID": call.contact_id or contact.contact_id,
        "Master Contact ID": contact.master_contact_id,
        "Agent ID": contact.agent_id,
        "Agent Name": contact.agent_name,
        "Skill ID": contact.skill_id,
        "Skill Name": contact.skill_name,
        "Direction": contact.direction,
        "Media Type": contact.media_type,
        "Disposition Name": contact.disposition_name,
        "Disposition Notes": contact.disposition_notes,
        **(
            {"ANI": contact.ani, "DNIS": contact.dnis}
            if voice
            else {
                "From": contact.from_,
                "To": contact.to,
                "Customer Name": contact.customer_name,
                "Channel Type": contact.channel_type,
            }
        ),
    }
    return {key: str(value) for key, value in data.items() if value not in (None, "")}


def cxone_events(
    call: CxoneWorkflowCall, configuration_id: str, settings: CxoneSettings
) -> list[PlatformEvent]:
    """The interaction events a script call implies (none without ``cxoneContact``)."""
    contact = call.cxone_contact
    interaction_id = call.interaction
    if contact is None or not interaction_id:
        return []
    leg = call.contact_id or contact.contact_id or interaction_id
    base: dict[str, Any] = {
        "interactionId": interaction_id,
        "contactId": leg,
        "masterContactId": contact.master_contact_id,
        "channel": "voice" if _voice(contact) else "digital",
        "configurationId": configuration_id,
        "data": _data(contact, call),
        "scriptVariables": contact.script_variables,
    }
    events: list[PlatformEvent] = []

    def add(event_id: str, type_: str, **extra: Any) -> None:
        events.append(
            platform_event(event_id, {**base, "type": type_, "eventId": event_id, **extra})
        )

    if contact.agent_id:
        agent = {
            "id": contact.agent_id,
            "name": contact.agent_name or "",
            "email": contact.agent_email,
        }
        add(f"{leg}:assigned:{contact.agent_id}", "started", agent=agent)
    if call.kind == "datamemorialization":
        if settings.end_on_memorialization:
            add(f"{leg}:ended", "ended", endedBy="agent", data={**base["data"], "ACW": True})
        add(f"{leg}:dispositioned", "acw_completed")
    return events


def execute_request(
    call: CxoneWorkflowCall, configuration_id: str, workflow_id: str
) -> ExecuteRequest | None:
    """Our execute body for the actions that run a workflow (None for the others)."""
    if call.kind not in RUNS:
        return None
    given = call.workflow_input
    workflow_input: dict[str, Any] = {k: given[k] for k in _INPUT_KEYS if k in given}
    if isinstance(given.get("search"), list):
        workflow_input["search"] = custom_search(given["search"])
    if call.integration:
        workflow_input["integration"] = call.integration
    options = (
        {"dynamicDataMappingId": call.dynamic_data_mapping_id}
        if call.dynamic_data_mapping_id
        else {}
    )
    return ExecuteRequest.model_validate(
        {
            "configurationId": configuration_id,
            "workflowId": workflow_id,
            "interactionId": call.interaction or None,
            "contactId": call.contact_id,
            "payload": {"workflowInput": workflow_input},
            "options": options,
        }
    )
