"""Data memorialization mappings: which interaction data lands in which CRM field.

A mapping covers one or more record types; each rule is ``CRM field <- source``, where the
source is a platform field of the voice or digital channel, or a (lowercase) script variable.
Validation against the CRM's field metadata lives in the configuration model; this module
holds the shapes and the fixed source vocabularies.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "VOICE_FIELDS",
    "DIGITAL_FIELDS",
    "CONTACT_ENDED_EXCLUDED",
    "MappingSource",
    "FieldMapping",
    "RecordTypeMapping",
    "MemorializationMapping",
]

VOICE_FIELDS: tuple[str, ...] = (
    "Agent ID",
    "Agent Name",
    "ANI",
    "Contact ID",
    "Contact Type",
    "Direction",
    "Disposition Name",
    "Disposition Notes",
    "DNIS",
    "End Time",
    "Final State",
    "Interaction ID",
    "Master Contact ID",
    "Media Type",
    "Recording URL",
    "Skill ID",
    "Skill Name",
    "Start Time",
    "Status",
    "To",
    "Tags",
)
DIGITAL_FIELDS: tuple[str, ...] = (
    "Agent ID",
    "Agent Name",
    "Channel Name",
    "Channel Type",
    "Contact ID",
    "Customer Name",
    "Direction",
    "Disposition Name",
    "Disposition Notes",
    "End Time",
    "Event Type",
    "Final State",
    "From",
    "Interaction ID",
    "Media Type",
    "Skill ID",
    "Skill Name",
    "Start Time",
    "Status",
    "To",
    "Transcription Text",
    "Transcript URL",
)
# Not written when the contact ended the interaction first.
CONTACT_ENDED_EXCLUDED: frozenset[str] = frozenset(
    {"Status", "Disposition Name", "Disposition Notes", "Tags"}
)


class MappingSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["voice", "digital", "script_variable"]
    field: str

    @model_validator(mode="after")
    def _check_field(self) -> MappingSource:
        if self.channel == "voice" and self.field not in VOICE_FIELDS:
            raise ValueError(
                f"'{self.field}' is not a voice field; choose one of: {', '.join(VOICE_FIELDS)}"
            )
        if self.channel == "digital" and self.field not in DIGITAL_FIELDS:
            raise ValueError(
                f"'{self.field}' is not a digital field; choose one of: {', '.join(DIGITAL_FIELDS)}"
            )
        if self.channel == "script_variable":
            if not self.field or self.field != self.field.lower():
                raise ValueError(
                    f"script variable '{self.field}' must be lowercase: the contact-center "
                    "platform delivers script variable names in lowercase"
                )
        return self


class FieldMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crm_field: str = Field(alias="crmField")
    source: MappingSource

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RecordTypeMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    record_type: str = Field(alias="recordType")
    fields: list[FieldMapping]


class MemorializationMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = ""
    name: str
    description: str = ""
    record_types: list[RecordTypeMapping] = Field(alias="recordTypes")

    def rules_for(self, record_type: str) -> list[FieldMapping]:
        """The rules for one record type (names compared case-insensitively)."""
        wanted = record_type.lower()
        return [
            rule
            for mapping in self.record_types
            if mapping.record_type.lower() == wanted
            for rule in mapping.fields
        ]
