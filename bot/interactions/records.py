"""Pure helpers: which fields a record shows on the card, and record <-> view conversions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from cards.view import FieldKind, FieldView, RecordView
from crm.models import TEXT_FIELD_TYPES, CrmRecord, FieldInfo, FieldType, FieldValue

__all__ = [
    "MAX_TEXT_FIELDS",
    "MAX_OTHER_FIELDS",
    "choose_card_fields",
    "field_view",
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


def _worth_a_line(
    name: str, value: FieldValue, record: CrmRecord | None, meta: Mapping[str, FieldInfo]
) -> bool:
    """Whether the default card mapping shows a field: not empty, not bookkeeping, not a
    repeat of the title ("First name: Anna" under "Anna Schmidt"), and not a reference the
    CRM gave no name for (a bare id means nothing to the agent)."""
    if name in _HIDDEN or value in (None, ""):
        return False
    if record is None:
        return True
    if isinstance(value, str) and value.strip() in (record.title, *record.title.split()):
        return False
    info = meta.get(name)
    is_reference = info is not None and info.type == FieldType.REFERENCE
    return not is_reference or name in record.references


def choose_card_fields(
    fields: Mapping[str, FieldValue],
    *,
    configured: Sequence[str] | None = None,
    meta: Mapping[str, FieldInfo] | None = None,
    record: CrmRecord | None = None,
) -> list[str]:
    """Names of the fields the card shows: at most 5 text and 3 other fields.

    ``configured`` (the configuration's data mapping) keeps its order; otherwise (the
    default card mapping) the record's own fields in CRM order that are worth a line (see
    ``_worth_a_line``; ``record`` gives the title and the resolved references for that).
    """
    meta = meta or {}
    candidates: Iterable[str] = (
        configured
        if configured is not None
        else (name for name, value in fields.items() if _worth_a_line(name, value, record, meta))
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
    locale: str = "en",
    type_label: str = "",
    configured: Sequence[str] | None = None,
    meta: Mapping[str, FieldInfo] | None = None,
) -> RecordView:
    meta = meta or {}
    names = choose_card_fields(record.fields, configured=configured, meta=meta, record=record)
    return RecordView(
        type=record.type,
        type_label=type_label or humanize(record.type),
        id=record.id,
        title=record.title or record.id,
        url=record.url,
        origin=origin,
        fields=[field_view(record, name, meta.get(name), locale) for name in names],
    )


_KINDS: dict[FieldType, FieldKind] = {
    FieldType.NUMBER: "number",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.BOOLEAN: "boolean",
}


def _kind(value: Any, info: FieldInfo | None) -> FieldKind:
    if info is not None:
        return _KINDS.get(info.type, "text")
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    return "date" if isinstance(value, date) else "text"


def field_view(
    record: CrmRecord, name: str, info: FieldInfo | None, locale: str = "en"
) -> FieldView:
    """One field for the card, labelled in ``locale`` where the CRM has the label: a
    resolved reference as the target's name (linked to it), other kinds as plain values the
    card formats by its locale (see ``FieldView``)."""
    label = info.label_in(locale) if info is not None else humanize(name)
    reference = record.references.get(name)
    if reference is not None:
        return FieldView(name=name, label=label, value=reference.name, url=reference.url)
    value = record.fields.get(name)
    kind = _kind(value, info) if value not in (None, "") else "text"
    if kind == "text":
        text = format_value(value)
        url = text if info is not None and info.type == FieldType.URL else ""
        return FieldView(name=name, label=label, value=text, url=_web_link(url))
    if isinstance(value, bool):
        plain = "true" if value else "false"
    elif isinstance(value, datetime | date):
        plain = value.isoformat()
    else:
        plain = str(value)
    return FieldView(name=name, label=label, value=plain, kind=kind)


def _web_link(url: str) -> str:
    return url if url.lower().startswith(("https://", "http://")) else ""
