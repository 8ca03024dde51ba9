"""Checks of mappings and workflows against the CRM's own field metadata.

The checks are pure functions over :class:`CrmMetadata` that return every problem found,
each naming the offending field by its JSON path (``recordTypes[0].fields[2].crmField``).
The ``validate_*`` coroutines fetch the metadata through the adapter and raise a
``ConfigError`` for the first problem (its message lists them all).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .config import (
    MAX_OTHER_FIELDS,
    MAX_TEXT_FIELDS,
    CreateWorkflow,
    DynamicDataMapping,
    SearchCriteria,
    SearchWorkflow,
    UpdateWorkflow,
)
from .errors import ConfigError
from .mappings import MemorializationMapping
from .models import FieldInfo, RecordType
from .protocol import CrmAdapter

__all__ = [
    "Problem",
    "CrmMetadata",
    "load_metadata",
    "memorialization_problems",
    "dynamic_mapping_problems",
    "workflow_problems",
    "criteria_problems",
    "create_problems",
    "raise_problems",
    "validate_memorialization",
    "validate_dynamic_mapping",
    "validate_workflow",
]


@dataclass(frozen=True)
class Problem:
    field: str  # JSON path of the offending value
    message: str


@dataclass
class CrmMetadata:
    """Record types and (for the types asked about) their fields."""

    record_types: list[RecordType]
    fields: dict[str, list[FieldInfo]] = field(default_factory=dict)  # lower-case type name

    def record_type(self, name: str) -> RecordType | None:
        wanted = name.lower()
        return next((t for t in self.record_types if t.name.lower() == wanted), None)

    def field_of(self, record_type: str, name: str) -> FieldInfo | None:
        return next((f for f in self.fields.get(record_type.lower(), []) if f.name == name), None)

    def type_names(self) -> str:
        return ", ".join(t.name for t in self.record_types)


async def load_metadata(adapter: CrmAdapter, record_types: Iterable[str]) -> CrmMetadata:
    """The CRM's record types and the fields of those in ``record_types`` that exist."""
    meta = CrmMetadata(await adapter.list_record_types())
    for name in {n.lower(): n for n in record_types}.values():
        known = meta.record_type(name)
        if known is not None and known.name.lower() not in meta.fields:
            meta.fields[known.name.lower()] = await adapter.list_fields(known.name)
    return meta


def _unknown_type(path: str, name: str, meta: CrmMetadata) -> Problem:
    return Problem(
        path, f"'{name}' is not a record type of this CRM; choose one of: {meta.type_names()}"
    )


def _unknown_field(path: str, name: str, record_type: str, meta: CrmMetadata) -> Problem:
    known = ", ".join(f.name for f in meta.fields.get(record_type.lower(), []))
    return Problem(path, f"'{name}' is not a field of {record_type}; its fields are: {known}")


def memorialization_problems(mapping: MemorializationMapping, meta: CrmMetadata) -> list[Problem]:
    """Each target field exists on its record type, is writable and accepts text."""
    problems: list[Problem] = []
    for i, per_type in enumerate(mapping.record_types):
        path = f"recordTypes[{i}]"
        if meta.record_type(per_type.record_type) is None:
            problems.append(_unknown_type(f"{path}.recordType", per_type.record_type, meta))
            continue
        for j, rule in enumerate(per_type.fields):
            where = f"{path}.fields[{j}].crmField"
            info = meta.field_of(per_type.record_type, rule.crm_field)
            if info is None:
                problems.append(_unknown_field(where, rule.crm_field, per_type.record_type, meta))
            elif not info.is_text:
                problems.append(
                    Problem(
                        where,
                        (
                            f"field '{info.name}' ({info.label}) of {per_type.record_type} is a "
                            f"{info.type.value} field and does not accept text; memorialization "
                            "writes text only"
                        ),
                    )
                )
            elif not info.updateable:
                problems.append(
                    Problem(
                        where,
                        (
                            f"field '{info.name}' ({info.label}) of {per_type.record_type} is "
                            "read-only in the CRM"
                        ),
                    )
                )
    return problems


def dynamic_mapping_problems(mapping: DynamicDataMapping, meta: CrmMetadata) -> list[Problem]:
    """Fields exist, and per record type at most 5 text fields and 3 of other types."""
    problems: list[Problem] = []
    for i, per_type in enumerate(mapping.record_types):
        path = f"recordTypes[{i}]"
        if meta.record_type(per_type.record_type) is None:
            problems.append(_unknown_type(f"{path}.recordType", per_type.record_type, meta))
            continue
        text: list[str] = []
        other: list[str] = []
        for j, name in enumerate(per_type.fields):
            info = meta.field_of(per_type.record_type, name)
            if info is None:
                problems.append(
                    _unknown_field(f"{path}.fields[{j}]", name, per_type.record_type, meta)
                )
            else:
                (text if info.is_text else other).append(name)
        if len(text) > MAX_TEXT_FIELDS:
            problems.append(
                Problem(
                    f"{path}.fields",
                    (
                        f"{len(text)} text fields chosen for {per_type.record_type} "
                        f"({', '.join(text)}); the card shows at most {MAX_TEXT_FIELDS} text fields"
                    ),
                )
            )
        if len(other) > MAX_OTHER_FIELDS:
            problems.append(
                Problem(
                    f"{path}.fields",
                    (
                        f"{len(other)} non-text fields chosen for {per_type.record_type} "
                        f"({', '.join(other)}); the card shows at most {MAX_OTHER_FIELDS} fields "
                        "that are not text (numbers, dates, picklists, ...)"
                    ),
                )
            )
    return problems


def criteria_problems(
    criteria: list[SearchCriteria], meta: CrmMetadata, path: str
) -> list[Problem]:
    """A dynamic search names searchable record types and existing columns."""
    problems: list[Problem] = []
    for i, item in enumerate(criteria):
        known = meta.record_type(item.record_type)
        if known is None:
            problems.append(_unknown_type(f"{path}[{i}].recordType", item.record_type, meta))
            continue
        if not known.searchable:
            problems.append(
                Problem(f"{path}[{i}].recordType", f"record type {known.name} cannot be searched")
            )
        for j, column in enumerate(item.columns):
            if meta.field_of(item.record_type, column.field) is None:
                problems.append(
                    _unknown_field(
                        f"{path}[{i}].columns[{j}].field", column.field, item.record_type, meta
                    )
                )
    return problems


def create_problems(
    mode: str,
    record_type: str,
    fields: Iterable[str],
    meta: CrmMetadata,
    *,
    type_path: str,
    fields_path: str,
) -> list[Problem]:
    """Create standard: a standard record type with standard fields only. Create custom:
    any createable type and field."""
    known = meta.record_type(record_type)
    if known is None:
        return [_unknown_type(type_path, record_type, meta)]
    problems: list[Problem] = []
    if not known.createable:
        problems.append(Problem(type_path, f"records of type {known.name} cannot be created"))
    if mode == "standard" and not known.standard:
        problems.append(
            Problem(
                type_path,
                (
                    f"{known.name} is a custom record type; a standard create workflow creates "
                    "only the CRM's standard record types (use a custom create workflow)"
                ),
            )
        )
    for name in fields:
        info = meta.field_of(record_type, name)
        where = f"{fields_path}.{name}"
        if info is None:
            problems.append(_unknown_field(where, name, known.name, meta))
        elif mode == "standard" and info.custom:
            problems.append(
                Problem(
                    where,
                    (
                        f"'{name}' is a custom field of {known.name}; a standard create workflow "
                        "sets standard fields only (use a custom create workflow)"
                    ),
                )
            )
        elif not info.createable:
            problems.append(
                Problem(
                    where, f"field '{name}' of {known.name} cannot be set when a record is created"
                )
            )
    return problems


def workflow_problems(workflow: object, meta: CrmMetadata) -> list[Problem]:
    """Record types, columns and default fields a workflow names exist in the CRM."""
    problems: list[Problem] = []
    if isinstance(workflow, SearchWorkflow):
        for i, name in enumerate(workflow.record_types or []):
            if meta.record_type(name) is None:
                problems.append(_unknown_type(f"recordTypes[{i}]", name, meta))
        problems += criteria_problems(workflow.criteria, meta, "criteria")
    elif isinstance(workflow, CreateWorkflow):
        if workflow.record_type is not None:
            problems += create_problems(
                workflow.mode,
                workflow.record_type,
                workflow.fields,
                meta,
                type_path="recordType",
                fields_path="fields",
            )
        elif workflow.fields:
            problems.append(Problem("recordType", "default field values need a recordType"))
    elif isinstance(workflow, UpdateWorkflow) and workflow.record_type is not None:
        if meta.record_type(workflow.record_type) is None:
            problems.append(_unknown_type("recordType", workflow.record_type, meta))
    return problems


def raise_problems(problems: list[Problem], *, prefix: str = "") -> None:
    """Raise a ``ConfigError`` naming the first problem's field; the message lists all."""
    if not problems:
        return
    first = problems[0]
    message = "; ".join(f"{prefix}{p.field}: {p.message}" for p in problems)
    raise ConfigError(message, code="invalid_mapping", field=prefix + first.field)


def _workflow_types(workflow: object) -> list[str]:
    names: list[str] = []
    if isinstance(workflow, SearchWorkflow):
        names += workflow.record_types or []
        names += [c.record_type for c in workflow.criteria]
    elif isinstance(workflow, CreateWorkflow | UpdateWorkflow) and workflow.record_type:
        names.append(workflow.record_type)
    return names


async def validate_memorialization(mapping: MemorializationMapping, adapter: CrmAdapter) -> None:
    meta = await load_metadata(adapter, [m.record_type for m in mapping.record_types])
    raise_problems(memorialization_problems(mapping, meta))


async def validate_dynamic_mapping(mapping: DynamicDataMapping, adapter: CrmAdapter) -> None:
    meta = await load_metadata(adapter, [m.record_type for m in mapping.record_types])
    raise_problems(dynamic_mapping_problems(mapping, meta))


async def validate_workflow(workflow: object, adapter: CrmAdapter) -> None:
    names = _workflow_types(workflow)
    if not names:
        return
    meta = await load_metadata(adapter, names)
    raise_problems(workflow_problems(workflow, meta))
