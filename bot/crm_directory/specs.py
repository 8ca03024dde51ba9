"""A configuration's mappings and workflows as stored: read and parsed into their models."""

from __future__ import annotations

from typing import TypeVar

from pydantic import TypeAdapter
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import DynamicDataMapping, MemorializationWorkflow, Workflow
from crm.errors import NotFoundError
from crm.mappings import MemorializationMapping

from ..storage.config_tables import (
    ConfigurationChild,
    DynamicDataMappingRow,
    MemorializationMappingRow,
    WorkflowRow,
)

__all__ = [
    "children_in_order",
    "dynamic_mapping",
    "memorialization_mapping",
    "memorialization_mapping_id",
    "workflow",
    "workflows",
]

_workflow = TypeAdapter(Workflow)
ChildT = TypeVar("ChildT", bound=ConfigurationChild)


def children_in_order(
    row: type[ChildT], configuration_id: str, *, active: bool = False
) -> Select[ChildT]:
    """A configuration's mappings or workflows of one kind in listing order (``active``:
    only the active ones)."""
    query = (
        select(row)
        .where(row.configuration_id == configuration_id)
        .order_by(row.position, row.created_at)
    )
    return query.where(row.status == "active") if active else query


async def dynamic_mapping(
    session: AsyncSession, configuration_id: str, mapping_id: str | None
) -> DynamicDataMapping | None:
    """The named dynamic data mapping (NotFoundError if unknown), or without a name the
    configuration's first active one (None when it has none)."""
    if mapping_id:
        row = await session.get(DynamicDataMappingRow, (configuration_id, mapping_id))
        if row is None:
            raise NotFoundError(
                f"Unknown dynamic data mapping {mapping_id} in configuration {configuration_id}",
                code="unknown_dynamic_mapping",
                field="options.dynamicDataMappingId",
            )
    else:
        query = children_in_order(DynamicDataMappingRow, configuration_id, active=True)
        row = (await session.execute(query)).scalars().first()
    return DynamicDataMapping.model_validate(row.spec) if row is not None else None


def memorialization_mapping_id(workflows: list[Workflow]) -> str | None:
    """The mapping the first active memorialization workflow names, if any."""
    for workflow in workflows:
        if (
            isinstance(workflow, MemorializationWorkflow)
            and workflow.status == "active"
            and workflow.mapping_id
        ):
            return workflow.mapping_id
    return None


async def memorialization_mapping(
    session: AsyncSession, configuration_id: str, mapping_id: str | None
) -> MemorializationMapping | None:
    """The named mapping, or without a name the configuration's first active one; None when
    there is none (or it is inactive)."""
    if mapping_id is not None:
        row = await session.get(MemorializationMappingRow, (configuration_id, mapping_id))
    else:
        query = children_in_order(MemorializationMappingRow, configuration_id, active=True)
        row = (await session.execute(query)).scalars().first()
    if row is None or row.status != "active":
        return None
    spec = {k: v for k, v in row.spec.items() if k != "status"}
    return MemorializationMapping.model_validate(spec)


async def workflows(session: AsyncSession, configuration_id: str) -> list[Workflow]:
    rows = (await session.execute(children_in_order(WorkflowRow, configuration_id))).scalars()
    return [_workflow.validate_python(row.spec) for row in rows]


async def workflow(session: AsyncSession, configuration_id: str, workflow_id: str) -> Workflow:
    """An active workflow of the configuration; NotFoundError naming ``workflowId``."""
    row = await session.get(WorkflowRow, (configuration_id, workflow_id))
    if row is None or row.status != "active":
        state = "Unknown" if row is None else "Inactive"
        raise NotFoundError(
            f"{state} workflow {workflow_id} in configuration {configuration_id}",
            code="unknown_workflow",
            field="workflowId",
        )
    return _workflow.validate_python(row.spec)
