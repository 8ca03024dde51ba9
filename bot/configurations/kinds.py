"""The kinds of per-configuration objects (memorialization mappings, dynamic data
mappings, workflows) as data: table, model, id prefix and CRM check; and the look-up of a
configuration's row that every store operation starts with."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import DynamicDataMapping, MemorializationMappingInput, Workflow
from crm.errors import CrmError, NotFoundError
from crm.protocol import CrmAdapter
from crm.secrets import redact
from crm.validation import validate_dynamic_mapping, validate_memorialization, validate_workflow

from ..crm_directory import CrmDirectory
from ..storage.config_tables import (
    ConfigurationRow,
    DynamicDataMappingRow,
    MemorializationMappingRow,
    WorkflowRow,
)

T = TypeVar("T")

__all__ = [
    "ChildKind",
    "CHILD_KINDS",
    "ChildName",
    "workflow_adapter",
    "new_id",
    "dump",
    "config_row",
    "guarded",
]

workflow_adapter: TypeAdapter[Workflow] = TypeAdapter(Workflow)

ChildName = Literal["memorialization", "dynamic", "workflow"]


@dataclass(frozen=True)
class ChildKind:
    """One kind of per-configuration object: its table, model and CRM check."""

    name: ChildName
    label: str  # for messages
    row: type[MemorializationMappingRow | DynamicDataMappingRow | WorkflowRow]
    prefix: str  # generated ids start with it
    parse: Callable[[Any], BaseModel]
    check: Callable[[Any, CrmAdapter], Awaitable[None]]


CHILD_KINDS: dict[ChildName, ChildKind] = {
    "memorialization": ChildKind(
        "memorialization",
        "memorialization mapping",
        MemorializationMappingRow,
        "map",
        MemorializationMappingInput.model_validate,
        validate_memorialization,
    ),
    "dynamic": ChildKind(
        "dynamic",
        "dynamic data mapping",
        DynamicDataMappingRow,
        "ddm",
        DynamicDataMapping.model_validate,
        validate_dynamic_mapping,
    ),
    "workflow": ChildKind(
        "workflow",
        "workflow",
        WorkflowRow,
        "wf",
        workflow_adapter.validate_python,
        validate_workflow,
    ),
}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


async def config_row(session: AsyncSession, configuration_id: str) -> ConfigurationRow:
    row = await session.get(ConfigurationRow, configuration_id)
    if row is None:
        raise NotFoundError(
            f"Unknown configuration {configuration_id}",
            code="unknown_configuration",
            field="configurationId",
        )
    return row


async def guarded(directory: CrmDirectory, configuration_id: str, call: Awaitable[T]) -> T:
    """Await a CRM call; a CRM error's texts lose any secret value of the configuration
    before they travel further (a vendor may echo a credential back)."""
    try:
        return await call
    except CrmError as exc:
        values = await directory.secret_values(configuration_id)
        exc.detail = redact(exc.detail, values)
        if exc.vendor_message:
            exc.vendor_message = redact(exc.vendor_message, values)
        raise
