"""Workflows: the ready set each configuration starts with, and their execution.

``execute`` runs one workflow through the adapter and returns a :class:`WorkflowOutcome`
(the records, which of them go to Current Interaction, timeline and memorialization
details). The HTTP layer looks the configuration, workflow and interaction up, calls it,
shows the outcome on the card and renders it with :mod:`crm.workflow_result`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .config import (
    CreateWorkflow,
    MemorializationWorkflow,
    SearchWorkflow,
    TimelineWorkflow,
    UpdateWorkflow,
    Workflow,
)
from .errors import InputError
from .interaction_data import InteractionData, fill_template
from .mappings import MemorializationMapping
from .models import (
    Condition,
    CrmRecord,
    DynamicSearch,
    EmailSearch,
    FieldValue,
    PhoneSearch,
    TimelineActivity,
    TimelineRef,
)
from .protocol import CrmAdapter
from .validation import create_problems, criteria_problems, load_metadata
from .workflow_request import ExecuteOptions, ExecuteRequest, RecordRef, WorkflowInput

__all__ = [
    "RecordRef",
    "WorkflowInput",
    "ExecuteOptions",
    "ExecuteRequest",
    "WorkflowOutcome",
    "Memorializer",
    "default_workflows",
    "execute",
    "needs_interaction",
]

_INPUT = "payload.workflowInput"


@dataclass
class WorkflowOutcome:
    """What a workflow did. ``records`` go to Related on the card unless they are in
    ``current`` (created, or pinned on request)."""

    kind: str
    records: list[CrmRecord] = field(default_factory=list)
    current: list[CrmRecord] = field(default_factory=list)
    timeline: list[tuple[CrmRecord, TimelineRef]] = field(default_factory=list)
    memorialized: list[tuple[CrmRecord, dict[str, Any]]] = field(default_factory=list)

    @property
    def related(self) -> list[CrmRecord]:
        pinned = {(r.type, r.id) for r in self.current}
        return [r for r in self.records if (r.type, r.id) not in pinned]


# (record, memorialization rules for its type) -> {"written": {...}, "truncated": [...],
# "skipped": [...]}; the service supplies it (the memorialization mapping function).
Memorializer = Callable[[CrmRecord, MemorializationMapping], Awaitable[dict[str, Any]]]


def default_workflows(integration_type: str) -> list[Workflow]:
    """The ready set a new configuration gets. Kustomer and Oracle search by phone and
    email only (as in the anchor); every other CRM also gets a custom search."""
    workflows: list[Workflow] = [
        SearchWorkflow(name="Search by phone number", by="phone"),
        SearchWorkflow(name="Search by email address", by="email"),
    ]
    if integration_type not in ("kustomer", "oracle"):
        workflows.append(SearchWorkflow(name="Custom search", by="dynamic"))
    workflows += [
        CreateWorkflow(name="Create standard record", mode="standard"),
        CreateWorkflow(name="Create custom record", mode="custom"),
        UpdateWorkflow(name="Update record"),
        TimelineWorkflow(name="Timeline"),
        MemorializationWorkflow(name="Data memorialization"),
    ]
    return workflows


def _context(
    interaction: InteractionData | None, workflow_input: WorkflowInput
) -> InteractionData | None:
    extra = workflow_input.interaction_data
    if not extra:
        return interaction
    base = interaction or InteractionData()
    return base.model_copy(update={"data": {**base.data, **extra}})


def _require(value: str | None, name: str, why: str) -> str:
    if value is None or not value.strip():
        raise InputError(f"{_INPUT}.{name}: {why}", code="missing_field", field=f"{_INPUT}.{name}")
    return value


def _lookup_value(value: str | None, name: str, why: str, data: InteractionData | None) -> str:
    """The phone number or email to search for: given, or the interaction's; references
    such as ``{ANI}`` filled in."""
    return fill_template(_require(value, name, why), data, field=f"{_INPUT}.{name}")


def _raise_input(problems: list[Any]) -> None:
    if problems:
        first = problems[0]
        raise InputError(
            "; ".join(f"{_INPUT}.{p.field}: {p.message}" for p in problems),
            code="invalid_field",
            field=f"{_INPUT}.{first.field}",
        )


def _filled_fields(
    values: Mapping[str, FieldValue], data: InteractionData | None, path: str
) -> dict[str, FieldValue]:
    return {
        name: fill_template(value, data, field=f"{path}.{name}")
        if isinstance(value, str)
        else value
        for name, value in values.items()
    }


async def _search(
    workflow: SearchWorkflow,
    given: WorkflowInput,
    adapter: CrmAdapter,
    data: InteractionData | None,
) -> list[CrmRecord]:
    limit = given.limit or workflow.limit
    if workflow.by == "phone":
        number = _lookup_value(
            given.phone_number or (data.ani if data else None),
            "phoneNumber",
            "the phone number to search for (or an interaction with an ANI)",
            data,
        )
        return await adapter.search(
            PhoneSearch(number=number, limit=limit, record_types=workflow.record_types)
        )
    if workflow.by == "email":
        email = _lookup_value(
            given.email or (data.email if data else None),
            "email",
            "the email address to search for (or a digital interaction with a sender address)",
            data,
        )
        return await adapter.search(
            EmailSearch(email=email, limit=limit, record_types=workflow.record_types)
        )
    criteria = given.search if given.search is not None else workflow.criteria
    if not criteria:
        raise InputError(
            f"{_INPUT}.search: a custom search needs criteria (record types with columns)",
            code="missing_field",
            field=f"{_INPUT}.search",
        )
    path = "search" if given.search is not None else "criteria"
    meta = await load_metadata(adapter, [c.record_type for c in criteria])
    _raise_input(criteria_problems(criteria, meta, path))
    found: list[CrmRecord] = []
    for i, item in enumerate(criteria):
        conditions = [
            Condition(
                field=c.field,
                operator=c.operator,
                value=fill_template(
                    c.value, data, field=f"{_INPUT}.{path}[{i}].columns[{j}].value"
                ),
            )
            for j, c in enumerate(item.columns)
        ]
        for record in await adapter.search(
            DynamicSearch(
                record_type=item.record_type,
                conditions=conditions,
                join=item.condition,
                limit=limit,
            )
        ):
            if all((r.type, r.id) != (record.type, record.id) for r in found):
                found.append(record)
    return found


async def _create(
    workflow: CreateWorkflow,
    given: WorkflowInput,
    adapter: CrmAdapter,
    data: InteractionData | None,
) -> CrmRecord:
    record_type = _require(
        given.record_type or workflow.record_type, "recordType", "the record type to create"
    )
    values = {
        **_filled_fields(workflow.fields, data, f"{_INPUT}.fields"),
        **_filled_fields(given.fields or {}, data, f"{_INPUT}.fields"),
    }
    if not values:
        raise InputError(
            f"{_INPUT}.fields: give the field values of the new record",
            code="missing_field",
            field=f"{_INPUT}.fields",
        )
    meta = await load_metadata(adapter, [record_type])
    _raise_input(
        create_problems(
            workflow.mode, record_type, values, meta, type_path="recordType", fields_path="fields"
        )
    )
    known = meta.record_type(record_type)
    return await adapter.create(known.name if known else record_type, values)


async def _update(
    workflow: UpdateWorkflow,
    given: WorkflowInput,
    adapter: CrmAdapter,
    data: InteractionData | None,
) -> CrmRecord:
    record_type = _require(
        given.record_type or workflow.record_type,
        "recordType",
        "the record type of the record to update",
    )
    record_id = _require(given.id, "id", "the id of the record to update")
    if not given.fields:
        raise InputError(
            f"{_INPUT}.fields: give the field values to change",
            code="missing_field",
            field=f"{_INPUT}.fields",
        )
    values = _filled_fields(given.fields, data, f"{_INPUT}.fields")
    meta = await load_metadata(adapter, [record_type])
    known = meta.record_type(record_type)
    if known is None:
        raise InputError(
            f"{_INPUT}.recordType: '{record_type}' is not a record type of this CRM",
            code="invalid_field",
            field=f"{_INPUT}.recordType",
        )
    for name in values:
        info = meta.field_of(known.name, name)
        if info is None or not info.updateable:
            why = "is not a field of" if info is None else "cannot be changed on"
            raise InputError(
                f"{_INPUT}.fields.{name}: '{name}' {why} {known.name}",
                code="invalid_field",
                field=f"{_INPUT}.fields.{name}",
            )
    return await adapter.update(known.name, record_id, values)


async def _targets(
    given: WorkflowInput, adapter: CrmAdapter, pinned: list[CrmRecord]
) -> list[CrmRecord]:
    if given.records:
        return [await adapter.get(ref.type, ref.id) for ref in given.records]
    if not pinned:
        raise InputError(
            f"{_INPUT}.records: name the records (the interaction has none pinned)",
            code="missing_field",
            field=f"{_INPUT}.records",
        )
    return list(pinned)


def _lenient(template: str, data: InteractionData | None) -> str:
    """A template with unknown references left out (subjects are prose, not search keys)."""
    try:
        return fill_template(template, data, field="subject")
    except InputError:
        return " ".join(part for part in template.split() if "{" not in part)


def _time(data: InteractionData | None, name: str) -> datetime | None:
    text = data.value_of(name) if data else None
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _activity(
    workflow: TimelineWorkflow,
    given: WorkflowInput,
    record: CrmRecord,
    data: InteractionData,
    workflow_id: str,
) -> TimelineActivity:
    direction = (data.value_of("Direction") or "").lower()
    started, ended = _time(data, "Start Time"), _time(data, "End Time")
    duration = int((ended - started).total_seconds()) if started and ended else None
    return TimelineActivity(
        key=f"{data.interaction_id}:{workflow_id}:{record.type}:{record.id}",
        record_type=record.type,
        record_id=record.id,
        subject=(given.subject or _lenient(workflow.subject, data)).strip() or "Interaction",
        direction=direction if direction in ("inbound", "outbound") else None,
        channel=data.channel,
        started_at=started,
        ended_at=ended,
        duration_seconds=duration if duration is None or duration >= 0 else None,
        disposition=data.value_of("Disposition Name"),
        notes=given.notes or data.value_of("Disposition Notes"),
        agent_name=data.value_of("Agent Name"),
        phone_number=data.ani if data.channel == "voice" else None,
    )


async def execute(
    workflow: Workflow,
    given: WorkflowInput,
    *,
    adapter: CrmAdapter,
    interaction: InteractionData | None,
    options: ExecuteOptions,
    pinned: list[CrmRecord] | None = None,
    memorialization_mapping: MemorializationMapping | None = None,
    memorialize: Memorializer | None = None,
) -> WorkflowOutcome:
    """Run ``workflow`` with the script's input. ``pinned``: the interaction's Current
    Interaction records (default targets of timeline and memorialization)."""
    data = _context(interaction, given)
    outcome = WorkflowOutcome(kind=workflow.kind)
    if isinstance(workflow, SearchWorkflow):
        outcome.records = await _search(workflow, given, adapter, data)
        if options.pin:
            outcome.current = list(outcome.records)
    elif isinstance(workflow, CreateWorkflow):
        created = await _create(workflow, given, adapter, data)
        outcome.records, outcome.current = [created], [created]
    elif isinstance(workflow, UpdateWorkflow):
        updated = await _update(workflow, given, adapter, data)
        outcome.records = [updated]
        if options.pin:
            outcome.current = [updated]
    elif isinstance(workflow, TimelineWorkflow):
        if data is None or not data.interaction_id:
            raise InputError(
                "interactionId: a timeline workflow records an interaction; name it",
                code="missing_field",
                field="interactionId",
            )
        targets = await _targets(given, adapter, pinned or [])
        for record in targets:
            ref = await adapter.add_timeline(_activity(workflow, given, record, data, workflow.id))
            outcome.timeline.append((record, ref))
        outcome.records = targets
    elif isinstance(workflow, MemorializationWorkflow):
        if memorialization_mapping is None or memorialize is None:
            raise InputError(
                f"{_INPUT}.mappingId: the configuration has no memorialization mapping to apply",
                code="missing_field",
                field=f"{_INPUT}.mappingId",
            )
        targets = await _targets(given, adapter, pinned or [])
        for record in targets:
            outcome.memorialized.append(
                (record, await memorialize(record, memorialization_mapping))
            )
        outcome.records = targets
    return outcome


def needs_interaction(workflow: Workflow) -> Literal["timeline", "memorialization"] | None:
    """Kinds that write an interaction into the CRM and so need one."""
    kind = workflow.kind
    return kind if kind in ("timeline", "memorialization") else None
