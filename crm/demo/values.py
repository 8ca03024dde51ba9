"""Pure rules of the demo CRM: field validation, phone keys and LIKE escaping (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ..errors import CrmRejectedError
from ..models import FieldInfo, FieldType, FieldValue
from ..phone import caller_number_keys, digits_only, phone_variants, stored_number_key
from .schema import TypeSpec

__all__ = [
    "validate_fields",
    "phone_key",
    "phone_search_keys",
    "like_contains",
    "condition_value",
    "output_value",
]

# Fewer digits than this never identify a caller; such input must not match short junk.
_MIN_PHONE_DIGITS = 4
# the width of the ``<field>_digits`` key columns (crm.demo_schema)
_KEY_WIDTH = 24


def phone_key(raw: str | None, region: str) -> str | None:
    """The key a stored number is indexed by (``crm.phone.stored_number_key``): its E.164
    digits when it parses, so "(030) 1234567" meets "+49301234567"; an unparseable value is
    kept apart as a national-only key that only callers of the region's country meet."""
    key = stored_number_key(raw, region) if raw else None
    return key if key and len(key) <= _KEY_WIDTH else None


def phone_search_keys(number: str, region: str) -> list[str]:
    """The keys an ANI may match (``crm.phone.caller_number_keys``): never the national
    digits of a caller from another country."""
    keys = caller_number_keys(phone_variants(number, region))
    return sorted(key for key in keys if len(digits_only(key)) >= _MIN_PHONE_DIGITS)


def like_contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in ``text`` escaped
    (escape character: backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _reject(detail: str, field: str, record_type: str) -> CrmRejectedError:
    return CrmRejectedError(
        detail, field=field, vendor_status=400, params={"field": field, "record_type": record_type}
    )


def _coerce(info: FieldInfo, value: FieldValue, record_type: str) -> Any:
    """The value as the column stores it; CrmRejectedError when it does not fit the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    name = info.name
    if info.type == FieldType.NUMBER:
        if isinstance(value, bool):
            raise _reject(f"{info.label} must be a number", name, record_type)
        try:
            return float(value)
        except ValueError:
            raise _reject(f"{info.label} must be a number", name, record_type) from None
    if info.type == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes"}:
            return True
        if text in {"false", "0", "no"}:
            return False
        raise _reject(f"{info.label} must be true or false", name, record_type)
    text = str(value)
    if info.type == FieldType.DATE:
        try:
            return date.fromisoformat(text.strip()).isoformat()
        except ValueError:
            raise _reject(f"{info.label} must be a date (YYYY-MM-DD)", name, record_type) from None
    if info.type == FieldType.DATETIME:
        try:
            return datetime.fromisoformat(text.strip()).isoformat()
        except ValueError:
            raise _reject(f"{info.label} must be a date and time", name, record_type) from None
    if info.options and text not in info.options:
        raise _reject(f"{info.label} must be one of: {', '.join(info.options)}", name, record_type)
    if info.max_length is not None and len(text) > info.max_length:
        raise _reject(
            f"{info.label} is longer than {info.max_length} characters", name, record_type
        )
    return text


def validate_fields(
    spec: TypeSpec, fields: Mapping[str, FieldValue], *, creating: bool
) -> dict[str, Any]:
    """Column values for a create (``creating``) or an update, checked against the type's
    metadata: unknown, read-only, too long, wrong kind and missing required fields are
    refused with the field named."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        info = spec.field(name)
        if info is None:
            raise _reject(f"{spec.info.label} has no field {name!r}", name, spec.name)
        if not (info.createable if creating else info.updateable):
            raise _reject(f"{info.label} cannot be set", name, spec.name)
        values[name] = _coerce(info, value, spec.name)
    if creating:
        for name, default in spec.defaults.items():
            if values.get(name) is None:
                values[name] = default
    for info in spec.fields:
        if not info.required:
            continue
        if (creating or info.name in values) and values.get(info.name) is None:
            raise _reject(f"{info.label} is required", info.name, spec.name)
    return values


def condition_value(info: FieldInfo, value: str, record_type: str) -> Any:
    """A dynamic-search value converted to the field's column kind (for a bound parameter)."""
    if info.type in (FieldType.NUMBER, FieldType.BOOLEAN):
        coerced = _coerce(info, value, record_type)
        if coerced is None:
            raise _reject(f"{info.label} needs a value", info.name, record_type)
        return coerced
    return value


def output_value(info: FieldInfo, value: Any) -> FieldValue:
    """A column value as the adapter returns it (whole numbers as int)."""
    if info.type == FieldType.NUMBER and isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
