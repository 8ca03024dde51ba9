"""The request of a workflow execution (``POST /api/v1/workflows/execute``), in the
commercial anchor's shape: ``{configurationId, workflowId, interactionId?, contactId?,
payload: {workflowInput: {...}}, options: {...}}``; older spellings (``entity``,
``entityId``, ``data``, ``integration``) are accepted as aliases."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from .config import SearchCriteria
from .models import FieldValue

__all__ = ["RecordRef", "WorkflowInput", "ExecutePayload", "ExecuteOptions", "ExecuteRequest"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RecordRef(_In):
    """A record named in a payload (the anchor's ``{entity, entityId}`` works too)."""

    type: str = Field(min_length=1, validation_alias=AliasChoices("type", "entity"))
    id: str = Field(min_length=1, validation_alias=AliasChoices("id", "entityId"))


class WorkflowInput(_In):
    """``payload.workflowInput``: what a script passes to the workflow."""

    phone_number: str | None = Field(default=None, alias="phoneNumber")
    email: str | None = None
    search: list[SearchCriteria] | None = None
    record_type: str | None = Field(
        default=None, validation_alias=AliasChoices("recordType", "entity")
    )
    id: str | None = None
    fields: dict[str, FieldValue] | None = Field(
        default=None, validation_alias=AliasChoices("fields", "data")
    )
    records: list[RecordRef] | None = Field(
        default=None, validation_alias=AliasChoices("records", "integration")
    )
    subject: str | None = None  # timeline: overrides the workflow's subject
    notes: str | None = None  # timeline: activity notes (default: Disposition Notes)
    mapping_id: str | None = Field(
        default=None, validation_alias=AliasChoices("mappingId", "dataMappingId")
    )
    # platform fields for references (``{ANI}``) when there is no interaction, or on top
    interaction_data: dict[str, str] | None = Field(default=None, alias="interactionData")
    limit: int | None = Field(default=None, ge=1, le=100)


class ExecutePayload(_In):
    workflow_input: WorkflowInput = Field(default_factory=WorkflowInput, alias="workflowInput")


class ExecuteOptions(_In):
    dynamic_data_mapping_id: str | None = Field(default=None, alias="dynamicDataMappingId")
    pin: bool = False  # put the found or updated records into Current Interaction
    screen_pop: bool = Field(default=False, alias="screenPop")


class ExecuteRequest(_In):
    """``POST /api/v1/workflows/execute``."""

    configuration_id: str = Field(alias="configurationId", min_length=1)
    workflow_id: str = Field(alias="workflowId", min_length=1)
    interaction_id: str | None = Field(
        default=None, validation_alias=AliasChoices("interactionId", "interactionID")
    )
    contact_id: str | None = Field(
        default=None, validation_alias=AliasChoices("contactId", "contactID")
    )
    payload: ExecutePayload = Field(default_factory=ExecutePayload)
    options: ExecuteOptions = Field(default_factory=ExecuteOptions)
