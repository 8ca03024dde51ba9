"""Pure OData ``$filter`` builders for the Dynamics 365 / Dataverse adapter: no I/O.

Values only enter a filter through ``quote_odata_string`` (``eq``/``ne`` literals) or
``like_literal`` (``contains`` literals, where Dataverse treats ``%``, ``_`` and ``[`` as
wildcards: each is bracketed to stand for itself), and names only through
``check_logical_name``. ``encode_query`` URL-encodes everything, ``+`` included (Dataverse
reads a raw ``+`` as a space).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote

import phonenumbers

from ...errors import CrmRejectedError, InputError
from ...models import Condition, check_conditions
from ...phone import PhoneVariants, digits_only

__all__ = [
    "check_logical_name",
    "is_guid",
    "quote_odata_string",
    "like_literal",
    "eq",
    "contains",
    "any_of",
    "build_dynamic_filter",
    "phone_digits_pattern",
    "build_phone_filter",
    "encode_query",
]

_LOGICAL_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_WILDCARDS = {"%": "[%]", "_": "[_]", "[": "[[]"}


def check_logical_name(name: str, *, what: str = "field") -> str:
    """``name`` if it is a Dataverse logical name (lower case, digits, underscores);
    ``CrmRejectedError`` otherwise, without sending anything."""
    if not _LOGICAL_NAME.match(name or ""):
        raise CrmRejectedError(f"Invalid Dataverse {what} name {name[:80]!r}", field=what)
    return name


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value or ""))


def _strip_controls(value: str) -> str:
    return "".join(ch for ch in value if ch >= " " or ch in "\n\r\t")


def quote_odata_string(value: str) -> str:
    """An OData string literal equal to ``value`` only (single quotes doubled)."""
    return "'" + _strip_controls(value).replace("'", "''") + "'"


def like_literal(value: str) -> str:
    """A ``contains``/``startswith`` literal matching ``value`` literally."""
    body = "".join(_WILDCARDS.get(ch, ch) for ch in _strip_controls(value))
    return quote_odata_string(body)


def eq(field: str, value: str, *, negate: bool = False) -> str:
    """``field eq 'value'`` (or ``ne``)."""
    return f"{check_logical_name(field)} {'ne' if negate else 'eq'} {quote_odata_string(value)}"


def contains(field: str, value: str) -> str:
    """``contains(field,'value')`` with wildcards made literal."""
    return f"contains({check_logical_name(field)},{like_literal(value)})"


def any_of(expressions: Iterable[str]) -> str:
    """``(a or b ...)``; an empty list is refused rather than turned into match-all."""
    parts = list(expressions)
    if not parts:
        raise InputError("Nothing to filter on", field="conditions")
    return "(" + " or ".join(parts) + ")"


def build_dynamic_filter(conditions: Sequence[Condition], join: str) -> str:
    """The workflow model's conditions as one parenthesised ``$filter`` expression."""
    check_conditions(conditions, join)
    parts = [eq(c.field, c.value, negate=c.operator == "notequals") for c in conditions]
    return "(" + f" {join} ".join(parts) + ")"


def phone_digits_pattern(variants: PhoneVariants, *, min_digits: int = 4) -> str | None:
    """A wildcard pattern (digits joined by ``%``) of the number's national significant
    digits, matching it however it was typed (``089 / 555 1212``, ``+49 89 5551212``).

    The pattern over-approximates; the adapter keeps only rows whose stored number really is
    the caller's (``crm.phone.stored_number_matches``). None when there is nothing to match.
    """
    digits = ""
    if variants.e164:
        parsed = phonenumbers.parse(variants.e164)
        digits = phonenumbers.national_significant_number(parsed)
    if not digits:
        digits = max((digits_only(v) for v in variants), key=len, default="")
    if len(digits) < min_digits:
        return None
    return "%".join(digits)


def build_phone_filter(fields: Sequence[str], variants: PhoneVariants) -> str | None:
    """``(contains(telephone1,'8%9%5...') or ...)`` over every phone field, or None."""
    pattern = phone_digits_pattern(variants)
    if pattern is None or not fields:
        return None
    # the pattern holds only digits and % wildcards, so it needs no escaping
    literal = "'" + pattern + "'"
    return any_of(f"contains({check_logical_name(f)},{literal})" for f in fields)


def encode_query(params: Mapping[str, str]) -> str:
    """``$filter=...&$select=...`` with every value percent-encoded (``+`` as ``%2B``)."""
    return "&".join(
        f"{quote(name, safe='$')}={quote(value, safe='')}" for name, value in params.items()
    )
