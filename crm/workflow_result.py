"""The normalised answer of a workflow execution, in the commercial anchor's shape.

``{"contactId", "result": [{"system": {type, label, baseUrl}, "records": [...],
"pinRecords": [...]}]}`` with each record as ``{type, label, id, title, display, url, link,
linkable, screenPop, updated, fields: [{name, label, value}]}``. As in the anchor, ``url`` is
relative to ``system.baseUrl`` when the deep link lies under it (the pop URL is
``baseUrl + url``); ``link`` is always the absolute deep link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .models import CrmRecord, CrmSystem, FieldInfo, FieldValue

__all__ = [
    "ResultField",
    "ResultRecord",
    "ResultSystem",
    "ResultSet",
    "TimelineEntry",
    "MemorializedRecord",
    "ExecuteResponse",
    "render_record",
    "render_system",
]


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class ResultField(_Out):
    name: str
    label: str
    value: str


class ResultRecord(_Out):
    type: str
    label: str
    id: str
    title: str
    display: str
    url: str
    link: str
    linkable: bool = True
    screen_pop: bool = Field(default=False, alias="screenPop")
    updated: datetime | None = None
    fields: list[ResultField] = Field(default_factory=list)


class ResultSystem(_Out):
    type: str
    label: str
    base_url: str = Field(alias="baseUrl")


class ResultSet(_Out):
    system: ResultSystem
    records: list[ResultRecord] = Field(default_factory=list)
    pin_records: list[ResultRecord] = Field(default_factory=list, alias="pinRecords")


class TimelineEntry(_Out):
    """A timeline activity a timeline workflow linked (or found already linked)."""

    record_type: str = Field(alias="recordType")
    record_id: str = Field(alias="recordId")
    activity_id: str = Field(alias="activityId")
    activity_type: str = Field(alias="activityType")
    created: bool


class MemorializedRecord(_Out):
    """Fields a memorialization workflow wrote to one record."""

    record_type: str = Field(alias="recordType")
    record_id: str = Field(alias="recordId")
    written: list[str]
    truncated: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


class ExecuteResponse(_Out):
    configuration_id: str = Field(alias="configurationId")
    workflow_id: str = Field(alias="workflowId")
    workflow_action: str = Field(alias="workflowAction")
    interaction_id: str | None = Field(default=None, alias="interactionId")
    contact_id: str | None = Field(default=None, alias="contactId")
    result: list[ResultSet]
    timeline: list[TimelineEntry] | None = None
    memorialized: list[MemorializedRecord] | None = None


def _text(value: FieldValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_system(system: CrmSystem) -> ResultSystem:
    return ResultSystem(type=system.type, label=system.label, base_url=system.base_url)


def render_record(
    record: CrmRecord,
    *,
    system: CrmSystem,
    type_label: str,
    field_infos: Sequence[FieldInfo],
    shown: list[str] | None,
    screen_pop: bool,
) -> ResultRecord:
    """One record as the result shows it. ``shown``: the dynamic data mapping's fields for
    the record type, in order (``None``: every field the record carries)."""
    labels: Mapping[str, str] = {f.name: f.label for f in field_infos}
    names = shown if shown is not None else list(record.fields)
    fields = [
        ResultField(name=name, label=labels.get(name, name), value=_text(record.fields.get(name)))
        for name in names
    ]
    base = system.base_url.rstrip("/")
    url = record.url
    if base and url.startswith(base + "/"):
        url = url[len(base) :]
    return ResultRecord(
        type=record.type,
        label=type_label,
        id=record.id,
        title=record.title,
        display=record.title,
        url=url,
        link=record.url,
        screen_pop=screen_pop,
        updated=record.updated_at,
        fields=fields,
    )
