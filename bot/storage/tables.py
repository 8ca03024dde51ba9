"""Tables of the service: installations, interactions, their records and events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .types import UtcDateTime

__all__ = ["InstallationRow", "InteractionRow", "InteractionRecordRow", "InteractionEventRow"]


def _now() -> datetime:
    return datetime.now(UTC)


class InstallationRow(Base):
    """An agent who installed the app in personal scope: where to send their cards."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    teams_user_id: Mapped[str] = mapped_column(String(200), unique=True)
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)  # lower-cased
    upn: Mapped[str | None] = mapped_column(String(320), index=True)  # lower-cased
    name: Mapped[str] = mapped_column(String(200), default="")
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(400))
    service_url: Mapped[str] = mapped_column(String(400))
    # ConversationReference as the SDK dumps it (by alias), for proactive sends
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(20), default="en-US")
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now, onupdate=_now)


class InteractionRow(Base):
    """One contact-center interaction (the platform's ``interactionId``) and its card."""

    __tablename__ = "interactions"
    # history look-up: earlier interactions of one customer, newest first
    __table_args__ = (Index("ix_interactions_customer_history", "customer_key", "started_at"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    configuration_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(128), default="")
    master_contact_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32))
    # who the customer is: ANI (voice) or address (digital); key = E.164 / lower-cased email
    customer: Mapped[str] = mapped_column(String(320), default="", info={"field": "data"})
    customer_key: Mapped[str] = mapped_column(
        String(320), default="", info={"field": "data"}, index=True
    )
    skill: Mapped[str] = mapped_column(String(200), default="", info={"field": "data.Skill Name"})
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    script_variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ended_by: Mapped[str | None] = mapped_column(String(16))
    # the assigned agent, as the platform named them
    agent_id: Mapped[str] = mapped_column(String(128), default="")
    agent_name: Mapped[str] = mapped_column(String(200), default="")
    agent_aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent_email: Mapped[str | None] = mapped_column(String(320), index=True)
    agent_teams_user_id: Mapped[str | None] = mapped_column(String(200), index=True)
    # the agent's Teams installation once resolved; None while the card waits for an install
    installation_id: Mapped[int | None] = mapped_column(
        ForeignKey("installations.id", ondelete="SET NULL")
    )
    delivery_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # the posted card: conversation and activity id, updated in place on every change
    card_activity_id: Mapped[str | None] = mapped_column(String(400))
    card_conversation_id: Mapped[str | None] = mapped_column(String(400))
    # until then the process that made the card due posts it (others wait for its post)
    card_posting_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # the previous agent's card after a transfer (turned read-only)
    previous_cards: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # set when the interaction's CRM writes are queued: only then can one have failed
    memorialization_queued: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    match_outcome: Mapped[str] = mapped_column(String(16), default="unsearched")
    search_query: Mapped[str] = mapped_column(String(200), default="")
    related_shown: Mapped[int] = mapped_column(Integer, default=0)  # "more" pages shown
    locale: Mapped[str] = mapped_column(String(20), default="en-US")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now, onupdate=_now)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class InteractionRecordRow(Base):
    """A CRM record on an interaction's card: Current (pinned/created) or Related."""

    __tablename__ = "interaction_records"
    __table_args__ = (UniqueConstraint("interaction_id", "section", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interaction_id: Mapped[str] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(16))  # "current" | "related"
    origin: Mapped[str] = mapped_column(String(16))  # match, created, pinned, related, search
    record_type: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(400), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # snapshot
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)


class InteractionEventRow(Base):
    """Every accepted interaction event; the unique ``event_id`` de-duplicates deliveries."""

    __tablename__ = "interaction_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    interaction_id: Mapped[str] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    ended_by: Mapped[str | None] = mapped_column(String(16))
    agent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    script_variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
