"""Pure helpers for the create and edit forms: which fields, and validating what came back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cards.view import FormField
from crm.models import FieldInfo, FieldType, FieldValue

from .records import format_value

__all__ = [
    "MAX_FORM_FIELDS",
    "create_fields",
    "edit_fields",
    "form_view_fields",
    "parse_submission",
]

MAX_FORM_FIELDS = 12
_NOT_ON_FORMS = frozenset({FieldType.REFERENCE, FieldType.OTHER})

Translate = Callable[..., str]  # (key, **params) -> localized text


def create_fields(fields: Sequence[FieldInfo]) -> list[FieldInfo]:
    """Fields of a create form: every required one, then optional ones up to the limit."""
    usable = [f for f in fields if f.createable and f.type not in _NOT_ON_FORMS]
    required = [f for f in usable if f.required]
    optional = [f for f in usable if not f.required]
    return required + optional[: max(0, MAX_FORM_FIELDS - len(required))]


def edit_fields(fields: Sequence[FieldInfo], shown: Sequence[str]) -> list[FieldInfo]:
    """Fields of an edit form: the ones the card shows for the record, if updateable."""
    by_name = {f.name: f for f in fields}
    return [
        by_name[name]
        for name in shown
        if name in by_name and by_name[name].updateable and by_name[name].type not in _NOT_ON_FORMS
    ]


def form_view_fields(
    fields: Sequence[FieldInfo],
    values: Mapping[str, Any],
    locale: str,
    errors: Mapping[str, str] | None = None,
) -> list[FormField]:
    errors = errors or {}
    return [
        FormField(
            name=f.name,
            label=f.label_in(locale),
            type=f.type.value,
            required=f.required,
            max_length=f.max_length,
            options=list(f.options),
            value=format_value(values.get(f.name)) if values.get(f.name) is not None else "",
            error=errors.get(f.name, ""),
        )
        for f in fields
    ]


def _convert(info: FieldInfo, raw: str, translate: Translate) -> tuple[FieldValue, str]:
    """(value, error text) for one submitted input."""
    if info.type == FieldType.NUMBER:
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            return None, translate("invalid_input")
        return (int(number) if number.is_integer() else number), ""
    if info.type == FieldType.BOOLEAN:
        return raw.lower() in ("true", "1", "yes", "on"), ""
    if info.type == FieldType.PICKLIST and info.options and raw not in info.options:
        return None, translate("invalid_input")
    if info.max_length is not None and len(raw) > info.max_length:
        return None, translate("field_too_long", max=info.max_length)
    if info.type == FieldType.EMAIL and "@" not in raw:
        return None, translate("invalid_input")
    return raw, ""


def parse_submission(
    fields: Sequence[FieldInfo],
    submitted: Mapping[str, Any],
    translate: Translate,
    *,
    clear_empty: bool = False,
) -> tuple[dict[str, FieldValue], dict[str, str]]:
    """Values to send to the CRM and per-field error texts (empty when the form is valid).

    Empty optional inputs are left out of a create; on an edit (``clear_empty``) an emptied
    optional field is sent as ``None`` to clear it. A required field may never be empty.
    """
    values: dict[str, FieldValue] = {}
    errors: dict[str, str] = {}
    for info in fields:
        raw = submitted.get(info.name)
        text = "" if raw is None else str(raw).strip()
        if not text:
            if info.required:
                errors[info.name] = translate("field_required")
            elif clear_empty:
                values[info.name] = None
            continue
        value, error = _convert(info, text, translate)
        if error:
            errors[info.name] = error
        else:
            values[info.name] = value
    return values, errors
