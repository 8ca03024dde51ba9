"""Tables of the platform connectors: each platform's connection (settings, encrypted
secrets, the explicit agent table) and the platform events received, which make deliveries
exactly-once (unique per platform event id) and let early events wait for the start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

__all__ = ["ConnectorRow", "ConnectorEventRow", "CONNECTOR_EVENT_STATES"]

# pending: waits (for its interaction's start, or its turn); applied: handed to the
# interaction service; stale: superseded (arrived after a later stage was applied).
CONNECTOR_EVENT_STATES = ("pending", "applied", "stale")


def _now() -> datetime:
    return datetime.now(UTC)


class ConnectorRow(Base):
    """One platform's connection: ``platform`` is its key (one connection per platform)."""

    __tablename__ = "connectors"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # the CRM configuration its interactions use; NULL: the default configuration
    configuration_id: Mapped[str | None] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # secret name -> "enc:<fernet token>" or a reference "env:NAME" / "file:PATH"
    secrets: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # platform agent id -> Teams user (email/UPN or AAD object id), set by an admin
    agents: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )


class ConnectorEventRow(Base):
    """A platform event, translated: the interaction event it becomes, in its stage."""

    __tablename__ = "connector_events"
    __table_args__ = (
        UniqueConstraint("platform", "platform_event_id"),
        Index("ix_connector_events_pending", "interaction_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_event_id: Mapped[str] = mapped_column(String(200))
    interaction_id: Mapped[str] = mapped_column(String(128))
    stage: Mapped[int] = mapped_column(Integer)  # the event's place in an interaction's life
    event: Mapped[dict[str, Any]] = mapped_column(JSON)  # the InteractionEvent (by alias)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
