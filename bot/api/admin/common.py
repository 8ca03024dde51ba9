"""What the admin API's handlers share: the store, the JSON answer, and the documentation
models of the answers (they feed the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, RootModel

from crm.config import Configuration
from crm.startup import StartupStep

from ...configurations import ConfigurationStore
from ...services import SERVICES

__all__ = [
    "BASE",
    "TAGS",
    "ConfigurationList",
    "EntityFields",
    "EntityList",
    "Json",
    "MappingList",
    "StartupInput",
    "StartupSteps",
    "TestResult",
    "WorkflowBody",
    "WorkflowList",
    "answer",
    "configuration_store",
    "store",
]

BASE = "/api/v1/configurations"
TAGS = ("admin",)


def configuration_store(app: web.Application) -> ConfigurationStore:
    """The app's configuration store (the started services')."""
    return app[SERVICES].configurations


def store(request: web.Request) -> ConfigurationStore:
    return configuration_store(request.app)


class Json(RootModel[Any]):
    """Any JSON body; the store parses it so messages name fields the admin's way."""


def answer(model: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
    body = model.model_dump(mode="json", by_alias=True) if isinstance(model, BaseModel) else model
    return web.json_response(body, status=status)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ConfigurationList(_Doc):
    configurations: list[Configuration]
    total_records: int = Field(alias="totalRecords")


class MappingOut(_Doc):
    id: str
    name: str
    description: str = ""
    status: str
    entities: str  # the record types, comma-separated (as the anchor lists them)


class MappingList(_Doc):
    data_mappings: list[MappingOut] = Field(alias="dataMappings")
    total_records: int = Field(alias="totalRecords")


class WorkflowOut(_Doc):
    workflow_id: str = Field(alias="workflowId")
    workflow_name: str = Field(alias="workflowName")
    workflow_action: str = Field(alias="workflowAction")
    kind: str
    status: str


class WorkflowList(_Doc):
    id: str  # the configuration
    type_id: str = Field(alias="typeId")
    workflows: list[WorkflowOut]
    total_records: int = Field(alias="totalRecords")


class WorkflowBody(_Doc):
    """A workflow: ``kind`` (search, create, update, timeline, memorialization) and its
    settings; see docs/configuration.md."""

    kind: Literal["search", "create", "update", "timeline", "memorialization"]
    name: str


class EntityOut(_Doc):
    name: str
    label: str


class EntityList(_Doc):
    entities: list[EntityOut]


class FieldOut(_Doc):
    name: str
    label: str
    type: str
    is_updatable: bool = Field(alias="isUpdatable")


class EntityFields(_Doc):
    name: str
    label: str
    fields: list[FieldOut]


class TestResult(_Doc):
    configuration_id: str = Field(alias="configurationId")
    ok: bool
    type: str
    record_types: int = Field(alias="recordTypes")
    # what works, but not as configured (a caller table the CRM lacks, a missing property)
    warnings: list[str] = Field(default_factory=list)


class StartupSteps(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    steps: list[StartupStep]
    default: bool = False  # true: the configuration has none and the built-in default runs


class StartupInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[StartupStep] | None  # null: back to the built-in default
