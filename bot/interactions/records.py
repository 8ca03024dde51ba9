"""Pure helpers: which fields a record shows on the card, and record <-> view conversions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from cards.view import FieldView, RecordView
from crm.models import TEXT_FIELD_TYPES, CrmRecord, FieldInfo, FieldValue

__all__ = [
    "MAX_TEXT_FIELDS",
    "MAX_OTHER_FIELDS",
    "choose_card_fields",
    "format_value",
    "humanize",
    "record_view",
]

MAX_TEXT_FIELDS = 5
MAX_OTHER_FIELDS = 3
# Never worth a line on the card: ids and bookkeeping.
_HIDDEN = frozenset({"id", "Id", "created_at", "updated_at", "CreatedDate", "LastModifiedDate"})


def humanize(name: str) -> str:
    """A label for a field whose metadata is unknown: ``first_name`` -> ``First name``."""
    text = name.replace("_", " ").replace("__c", "").strip()
    return text[:1].upper() + text[1:] if text else name


def format_value(value: FieldValue | Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _is_text(name: str, value: Any, meta: Mapping[str, FieldInfo]) -> bool:
    info = meta.get(name)
    if info is not None:
        return info.type in TEXT_FIELD_TYPES
    return isinstance(value, str)


def choose_card_fields(
    fields: Mapping[str, FieldValue],
    *,
    configured: Sequence[str] | None = None,
    meta: Mapping[str, FieldInfo] | None = None,
) -> list[str]:
    """Names of the fields the card shows: at most 5 text and 3 other fields.

    ``configured`` (the configuration's data mapping) keeps its order; otherwise the record's
    own non-empty fields in CRM order, skipping ids and bookkeeping.
    """
    meta = meta or {}
    candidates: Iterable[str] = (
        configured
        if configured is not None
        else (
            name
            for name, value in fields.items()
            if name not in _HIDDEN and value not in (None, "")
        )
    )
    chosen: list[str] = []
    text = other = 0
    for name in candidates:
        if name not in fields:
            continue
        if _is_text(name, fields[name], meta):
            if text < MAX_TEXT_FIELDS:
                chosen.append(name)
                text += 1
        elif other < MAX_OTHER_FIELDS:
            chosen.append(name)
            other += 1
    return chosen


def record_view(
    record: CrmRecord,
    *,
    origin: str,
    type_label: str = "",
    configured: Sequence[str] | None = None,
    meta: Mapping[str, FieldInfo] | None = None,
) -> RecordView:
    meta = meta or {}
    names = choose_card_fields(record.fields, configured=configured, meta=meta)
    return RecordView(
        type=record.type,
        type_label=type_label or humanize(record.type),
        id=record.id,
        title=record.title or record.id,
        url=record.url,
        origin=origin,
        fields=[
            FieldView(
                name=name,
                label=meta[name].label if name in meta else humanize(name),
                value=format_value(record.fields.get(name)),
            )
            for name in names
        ],
    )
