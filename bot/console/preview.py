"""The card preview of a dynamic data mapping: the Customer Card it draws, for one sample
record per record type (the CRM's first record of the type; sample values from the field
metadata when the CRM has none or cannot list them). The card comes from the same builder
as the agents' (:func:`cards.build_customer_card`); the page draws it with the Adaptive
Cards renderer shipped in ``static/vendor``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cards import build_customer_card
from cards.view import CustomerCardView
from crm.config import DynamicDataMapping
from crm.errors import CrmError
from crm.models import Condition, CrmRecord, DynamicSearch, FieldInfo, FieldType, RecordType
from crm.protocol import CrmAdapter

from ..interactions.records import record_view

__all__ = ["preview_card", "sample_record"]

_SAMPLE_VALUES: dict[FieldType, Any] = {
    FieldType.NUMBER: 42,
    FieldType.DATE: "2026-01-31",
    FieldType.DATETIME: "2026-01-31T09:30:00+00:00",
    FieldType.BOOLEAN: True,
}


def sample_record(record_type: RecordType, fields: Sequence[FieldInfo]) -> CrmRecord:
    """A record whose every field shows its label (text) or a typical value."""
    values = {f.name: _SAMPLE_VALUES.get(f.type, f.label) for f in fields}
    return CrmRecord(type=record_type.name, id="sample", title=record_type.label, fields=values)


async def _first_record(adapter: CrmAdapter, record_type: str) -> CrmRecord | None:
    query = DynamicSearch(
        record_type=record_type,
        limit=1,
        conditions=[Condition(field="id", operator="notequals", value="")],
    )
    try:
        found = await adapter.search(query)
    except CrmError:  # not every CRM lists by "id <> ''": sample values instead
        return None
    return found[0] if found else None


async def preview_card(
    adapter: CrmAdapter,
    mapping: DynamicDataMapping,
    types: Mapping[str, RecordType],
    fields: Mapping[str, Sequence[FieldInfo]],
    *,
    locale: str,
    crm_label: str,
) -> dict[str, Any]:
    """The Adaptive Card (dict) the mapping makes of one record per record type."""
    views = []
    for item in mapping.record_types:
        known = types[item.record_type.lower()]
        infos = fields.get(known.name, ())
        record = await _first_record(adapter, known.name) or sample_record(known, infos)
        views.append(
            record_view(
                record,
                origin="match",
                type_label=known.label,
                configured=item.fields,
                meta={f.name: f for f in infos},
            )
        )
    view = CustomerCardView(
        interaction_id="preview",
        locale="de-DE" if locale == "de" else "en-US",
        customer=views[0].title if views else "",
        channel="voice",
        state="started",
        crm_label=crm_label,
        current=views,
        match_outcome="one",
    )
    return build_customer_card(view)
