"""Kustomer search bodies (``POST /v1/customers/search``) built from vendor-neutral searches.

Pure functions, no I/O. Kustomer criteria are JSON, ``{attribute: {operator: value}}`` inside
``and`` / ``or`` / ``not`` lists, so a value can never break out of its place the way it can
in a query string; what can still widen a search is the attribute name (validated here) and
``contains`` matching (the adapter re-checks every result). Attribute names are prefixed by
the object (``customer_email``), custom attributes by ``{object}_custom_``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ...errors import InputError
from ...models import Condition

__all__ = [
    "QUERY_CONTEXTS",
    "search_attribute",
    "search_body",
    "phone_body",
    "email_body",
    "text_body",
    "dynamic_bodies",
]

# record type -> queryContext
QUERY_CONTEXTS = {"customer": "customer", "company": "company", "conversation": "conversation"}

# field names the adapter exposes -> search attribute suffix
_STANDARD_ATTRIBUTES = {
    "customer": {
        "name": "name",
        "email": "email",
        "phone": "phone",
        "mobile": "phone",
        "sharedPhone": "shared_phone",
        "externalId": "external_id",
    },
    "company": {"name": "name", "externalId": "external_id"},
    "conversation": {
        "name": "name",
        "status": "status",
        "priority": "priority",
        "externalId": "external_id",
    },
}
_CUSTOM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# what Kustomer's search schema accepts for customer_phone / customer_shared_phone
_PHONE_VALUE = re.compile(r"\+?[1-9]\d{1,14}")


def _context(record_type: str) -> str:
    try:
        return QUERY_CONTEXTS[record_type]
    except KeyError:
        raise InputError(f"Kustomer cannot search {record_type!r}", field="record_type") from None


def search_attribute(record_type: str, field: str) -> str:
    """The search attribute for a field: ``customer_email``, ``customer_custom_tierStr``."""
    context = _context(record_type)
    standard = _STANDARD_ATTRIBUTES[record_type].get(field)
    if standard is not None:
        return f"{context}_{standard}"
    if not _CUSTOM_NAME.match(field):
        raise InputError(f"Invalid Kustomer attribute {field!r}", field="field")
    return f"{context}_custom_{field}"


def _value(value: str) -> str:
    cleaned = _CONTROL.sub(" ", value).strip()
    if not cleaned:
        raise InputError("The search value is empty", field="value")
    return cleaned


def search_body(
    record_type: str,
    *,
    all_of: Iterable[dict[str, Any]] = (),
    any_of: Iterable[dict[str, Any]] = (),
    none_of: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "queryContext": _context(record_type),
        "and": list(all_of),
        "or": list(any_of),
    }
    exclusions = list(none_of)
    if exclusions:
        body["not"] = exclusions
    body["sort"] = [{f"{_context(record_type)}_updated_at": "desc"}]
    return body


def phone_body(numbers: Iterable[str], contains: str | None = None) -> dict[str, Any]:
    """Customers with any of ``numbers`` as own or shared phone, or (``contains``) a phone
    holding those digits. Kustomer accepts only ``+?[1-9]`` and digits as a phone criterion
    (its search schema); other forms are left out."""
    criteria = []
    for number in dict.fromkeys(n for n in numbers if _PHONE_VALUE.fullmatch(n)):
        criteria.append({"customer_phone": {"equals": _value(number)}})
        criteria.append({"customer_shared_phone": {"equals": _value(number)}})
    if contains and _PHONE_VALUE.fullmatch(contains):
        criteria.append({"customer_phone": {"contains": contains}})
        criteria.append({"customer_shared_phone": {"contains": contains}})
    if not criteria:
        raise InputError("A phone search needs a number", field="number")
    return search_body("customer", any_of=criteria)


def email_body(email: str) -> dict[str, Any]:
    return search_body("customer", all_of=[{"customer_email": {"equals": _value(email)}}])


def text_body(record_type: str, text: str) -> dict[str, Any]:
    attribute = search_attribute(record_type, "name")
    return search_body(record_type, all_of=[{attribute: {"contains": _value(text)}}])


def dynamic_bodies(
    record_type: str, conditions: Iterable[Condition], join: str
) -> list[dict[str, Any]]:
    """Search bodies for a dynamic search.

    ``and``: equals go to ``and``, notequals to ``not``, in one body. ``or`` with only
    equals: one ``or`` body; with a notequals among them Kustomer cannot express
    "A or not B" in one body, so each condition gets its own body (merged by the adapter).
    """
    conditions = list(conditions)
    if not conditions:
        raise InputError("A dynamic search needs at least one condition", field="conditions")
    pairs = [
        (
            {search_attribute(record_type, c.field): {"equals": _value(c.value)}},
            c.operator == "notequals",
        )
        for c in conditions
    ]
    if join == "and":
        return [
            search_body(
                record_type,
                all_of=[c for c, neg in pairs if not neg],
                none_of=[c for c, neg in pairs if neg],
            )
        ]
    if not any(neg for _, neg in pairs):
        return [search_body(record_type, any_of=[c for c, _ in pairs])]
    return [
        search_body(record_type, none_of=[c]) if neg else search_body(record_type, all_of=[c])
        for c, neg in pairs
    ]
