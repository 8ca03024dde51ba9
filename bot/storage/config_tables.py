"""Tables of the integration model: CRM configurations, their memorialization mappings,
dynamic data mappings and workflows.

Mappings and workflows are stored as the JSON of their pydantic models (``spec``), keyed by
(configuration, id): ids are unique within a configuration, so a configuration file can
name its own ids (``search-by-phone``) without clashing with another configuration's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .types import UtcDateTime

__all__ = [
    "ConfigurationRow",
    "ConfigurationChild",
    "MemorializationMappingRow",
    "DynamicDataMappingRow",
    "WorkflowRow",
]


def _now() -> datetime:
    return datetime.now(UTC)


class ConfigurationRow(Base):
    __tablename__ = "crm_configurations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # secret name -> "enc:<fernet token>" or a reference "env:NAME" / "file:PATH"
    secrets: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # interaction start-up steps (crm.startup); NULL: the built-in default
    startup: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now, onupdate=_now)


class ConfigurationChild:
    """Columns every mapping and workflow row has."""

    configuration_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("crm_configurations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    position: Mapped[int] = mapped_column(Integer, default=0)  # listing order
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # the model's JSON (by alias)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now, onupdate=_now)


class MemorializationMappingRow(ConfigurationChild, Base):
    __tablename__ = "crm_memorialization_mappings"


class DynamicDataMappingRow(ConfigurationChild, Base):
    __tablename__ = "crm_dynamic_data_mappings"


class WorkflowRow(ConfigurationChild, Base):
    __tablename__ = "crm_workflows"

    kind: Mapped[str] = mapped_column(String(32))
