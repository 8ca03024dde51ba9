"""What the memorialization writer gets from the interaction side: an ``InteractionSnapshot``.

The snapshot is frozen into each outbox job when the triggering event is stored, so a job
writes what the interaction looked like at that moment, however long the CRM keeps it waiting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["TargetRecord", "InteractionSnapshot", "source_values"]


class _Model(BaseModel):
    # camelCase on the wire (and in the stored job payload), snake_case in Python
    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)


class TargetRecord(_Model):
    """A CRM record the interaction is written to: pinned in Current Interaction, or named by
    the configuration's memorialization workflow."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, alias_generator=to_camel, frozen=True
    )

    record_type: str = Field(min_length=1, max_length=100)
    record_id: str = Field(min_length=1, max_length=255)
    origin: Literal["pinned", "workflow"] = "pinned"


class InteractionSnapshot(_Model):
    """One interaction at its memorialization trigger.

    ``data`` holds the platform's fields under their admin-visible names ("ANI",
    "Skill Name", "Transcription Text", "Tags", ...; see ``crm.mappings``),
    ``script_variables`` the script variables (lowercase names). The typed fields below win
    over ``data`` for the names they cover ("Interaction ID", "Agent ID", "Agent Name",
    "Start Time", "End Time", "Direction").
    """

    interaction_id: str = Field(min_length=1, max_length=128)
    configuration_id: str = Field(min_length=1, max_length=64)
    channel: Literal["voice", "digital"]
    # the event type that triggered memorialization, and that event's id: a digital
    # interaction handed on twice is memorialized twice, once per hand-off
    trigger: str = Field(min_length=1, max_length=32)
    occurrence: str = Field(default="", max_length=200)
    ended_by: Literal["contact", "agent", "system"] | None = None
    direction: Literal["inbound", "outbound"] | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    script_variables: dict[str, Any] = Field(default_factory=dict)
    targets: list[TargetRecord] = Field(default_factory=list)

    @property
    def contact_ended_first(self) -> bool:
        return self.ended_by == "contact"


def source_values(snapshot: InteractionSnapshot) -> dict[str, Any]:
    """The platform fields by admin-visible name, the typed snapshot fields filled in."""
    values = dict(snapshot.data)
    typed = {
        "Interaction ID": snapshot.interaction_id,
        "Agent ID": snapshot.agent_id,
        "Agent Name": snapshot.agent_name,
        "Start Time": snapshot.started_at,
        "End Time": snapshot.ended_at,
        "Direction": snapshot.direction,
    }
    values.update({name: value for name, value in typed.items() if value is not None})
    return values
