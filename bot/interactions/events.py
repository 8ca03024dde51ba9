"""The contact-center side's interaction events: the API body and what is stored of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "EventType",
    "AgentRef",
    "InteractionEvent",
    "StoredEvent",
    "InteractionStateOut",
    "RecordOut",
    "EVENT_TYPES",
    "AGENT_REQUIRED",
]

EventType = Literal[
    "started", "updated", "ended", "acw_completed", "transferred", "unassigned", "dismissed"
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


class _CamelModel(BaseModel):
    # Field names in errors are the wire names (camelCase), as the platform sent them.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class AgentRef(_CamelModel):
    """The agent as the platform knows them, with whatever Teams identity it has."""

    id: str = Field(min_length=1, max_length=128)
    name: str = Field(default="", max_length=200)
    aad_object_id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    teams_user_id: str | None = Field(default=None, max_length=200)


# what the service enforces beyond the members' own types (InteractionService.handle_event)
AGENT_REQUIRED = ("started", "transferred")


class InteractionEvent(_CamelModel):
    """Body of ``POST /api/v1/interactions/events``. ``agent`` is required on ``started``
    and ``transferred``."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {
                        "properties": {"type": {"enum": list(AGENT_REQUIRED)}},
                        "required": ["type"],
                    },
                    "then": {
                        "required": ["agent"],
                        "properties": {"agent": {"type": "object"}},
                    },
                }
            ]
        }
    )

    type: EventType
    event_id: str = Field(min_length=1, max_length=200)
    interaction_id: str = Field(min_length=1, max_length=128)
    contact_id: str = Field(default="", max_length=128)
    master_contact_id: str | None = Field(default=None, max_length=128)
    channel: Literal["voice", "digital"] = "voice"
    configuration_id: str | None = Field(default=None, max_length=64)
    agent: AgentRef | None = None
    ended_by: Literal["contact", "agent"] | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    script_variables: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime | None = None

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """Stored in UTC (a time without offset is taken as UTC); a time whose UTC moment
        falls outside years 1 to 9999 is refused here, not by the database."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is outside the years 1 to 9999 in UTC") from None


@dataclass(frozen=True)
class StoredEvent:
    """An accepted event as the event hooks see it (inside the storing transaction)."""

    event_id: str
    interaction_id: str
    type: str
    ended_by: str | None
    data: dict[str, Any]
    script_variables: dict[str, Any]
    occurred_at: datetime
    agent: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: InteractionEvent) -> StoredEvent:
        return cls(
            event_id=event.event_id,
            interaction_id=event.interaction_id,
            type=event.type,
            ended_by=event.ended_by,
            data=dict(event.data),
            script_variables={k.lower(): v for k, v in event.script_variables.items()},
            occurred_at=event.occurred_at or datetime.now(UTC),
            agent=event.agent.model_dump(by_alias=True, exclude_none=True) if event.agent else {},
        )


class RecordOut(_CamelModel):
    type: str
    id: str
    title: str
    url: str = ""
    origin: str
    fields: dict[str, Any] = Field(default_factory=dict)


class InteractionStateOut(_CamelModel):
    """An interaction's state as the API answers it."""

    interaction_id: str
    state: str
    channel: str
    configuration_id: str
    contact_id: str = ""
    agent_id: str = ""
    card: Literal["pending", "posted", "waiting_for_install"] = "pending"
    match_outcome: str = "unsearched"
    duplicate: bool = False
    current: list[RecordOut] = Field(default_factory=list)
    related: list[RecordOut] = Field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")
