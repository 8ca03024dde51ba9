"""Pure builders for HubSpot CRM search requests (``POST .../objects/{type}/search``).

HubSpot search takes JSON, so a value can never break out of its filter the way a quote can
in SOQL: the risks are elsewhere and are handled here.

* Operators with pattern semantics (``CONTAINS_TOKEN`` treats ``*`` as a wildcard) are never
  given user input; user values only go to ``EQ``, ``NEQ`` and ``IN``, which compare whole
  values, so ``*`` or ``%`` are literal characters.
* An empty value would test "property is empty" rather than "matches": blank input yields
  no filter group at all and the caller searches nothing.
* Property and object-type names end up in the body and in URL paths: they are checked
  against HubSpot's internal-name shape and refused with ``CrmRejectedError`` otherwise.
* Filter groups are ORed, filters inside a group ANDed; HubSpot allows at most 5 groups,
  10 filters per group and 25 filters in total (since August 2024). Builders never exceed
  that silently: a dynamic search over the limits is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ...errors import CrmRejectedError
from ...models import Condition

__all__ = [
    "MAX_GROUPS",
    "MAX_FILTERS_PER_GROUP",
    "MAX_FILTERS",
    "Filter",
    "FilterGroup",
    "check_property_name",
    "check_object_type",
    "is_record_id",
    "eq",
    "neq",
    "any_of",
    "check_limits",
    "phone_filter_groups",
    "email_filter_groups",
    "name_filter_groups",
    "dynamic_filter_groups",
    "search_body",
]

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25

Filter = dict[str, Any]
FilterGroup = dict[str, list[Filter]]

# Internal names are lowercase in HubSpot's own properties, but custom ones may carry
# capitals; nothing else (no dots, spaces, quotes) is ever valid.
_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
# Object types: a name (contacts, p_pets), or an objectTypeId like 0-1 / 2-1234567.
_OBJECT_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}|\d-\d{1,15}")
_RECORD_ID = re.compile(r"\d{1,20}")


def check_property_name(name: str) -> str:
    """``name`` if it has the shape of a HubSpot property name, else ``CrmRejectedError``."""
    if not _PROPERTY.fullmatch(name):
        raise CrmRejectedError(f"{name!r} is not a HubSpot property name", field=name)
    return name


def check_object_type(object_type: str) -> str:
    """``object_type`` if it is a valid object type name or id (it goes into URL paths)."""
    if not _OBJECT_TYPE.fullmatch(object_type):
        raise CrmRejectedError(f"{object_type!r} is not a HubSpot object type")
    return object_type


def is_record_id(value: str) -> bool:
    """HubSpot record ids are decimal numbers."""
    return bool(_RECORD_ID.fullmatch(value))


def eq(prop: str, value: str) -> Filter:
    return {"propertyName": check_property_name(prop), "operator": "EQ", "value": value}


def neq(prop: str, value: str) -> Filter:
    return {"propertyName": check_property_name(prop), "operator": "NEQ", "value": value}


def any_of(prop: str, values: Sequence[str]) -> Filter:
    """``IN``: the property equals one of ``values`` (one filter instead of one group each,
    which keeps phone searches inside the five-group limit)."""
    return {"propertyName": check_property_name(prop), "operator": "IN", "values": list(values)}


def check_limits(groups: Sequence[FilterGroup]) -> list[FilterGroup]:
    """``groups`` unchanged if HubSpot accepts that many; ``CrmRejectedError`` otherwise."""
    if len(groups) > MAX_GROUPS:
        raise CrmRejectedError(f"HubSpot search allows at most {MAX_GROUPS} OR-ed conditions")
    total = 0
    for group in groups:
        count = len(group["filters"])
        if count > MAX_FILTERS_PER_GROUP:
            raise CrmRejectedError(
                f"HubSpot search allows at most {MAX_FILTERS_PER_GROUP} AND-ed conditions"
            )
        total += count
    if total > MAX_FILTERS:
        raise CrmRejectedError(f"HubSpot search allows at most {MAX_FILTERS} conditions")
    return list(groups)


def _group(*filters: Filter) -> FilterGroup:
    return {"filters": list(filters)}


def phone_filter_groups(
    variants: Sequence[str],
    national_digits: str | None,
    text_fields: Sequence[str],
    calculated_fields: Sequence[str] = (),
) -> list[FilterGroup]:
    """Groups matching a number in any phone field.

    ``text_fields`` (``phone``, ``mobilephone``) hold free text and are compared with every
    textual variant; ``calculated_fields`` (``hs_searchable_calculated_phone_number``...)
    hold HubSpot's normalised number without country code and are compared with
    ``national_digits``. Matches are verified afterwards with ``crm.phone.stored_number_matches``,
    because a national number alone may belong to another country.
    """
    values = [value for value in dict.fromkeys(variants) if value.strip()]
    groups: list[FilterGroup] = []
    if national_digits:
        groups += [_group(eq(field, national_digits)) for field in calculated_fields]
    if values:
        groups += [_group(any_of(field, values)) for field in text_fields]
    return check_limits(groups[:MAX_GROUPS])


def email_filter_groups(email: str, fields: Sequence[str] = ("email",)) -> list[FilterGroup]:
    email = email.strip()
    if not email:
        return []
    return check_limits([_group(eq(field, email)) for field in fields])


def name_filter_groups(
    text: str, first_field: str | None, last_field: str | None, name_field: str | None = None
) -> list[FilterGroup]:
    """Exact (case-insensitive) name matches: ``"Fischer"`` finds first or last name,
    ``"Anna Schmidt"`` first + last name; ``name_field`` gets the whole text."""
    text = " ".join(text.split())
    if not text:
        return []
    groups: list[FilterGroup] = []
    if name_field:
        groups.append(_group(eq(name_field, text)))
    tokens = text.split(" ")
    if first_field and last_field and len(tokens) > 1:
        groups.append(_group(eq(first_field, " ".join(tokens[:-1])), eq(last_field, tokens[-1])))
        if len(tokens) > 2:
            groups.append(_group(eq(first_field, tokens[0]), eq(last_field, " ".join(tokens[1:]))))
    if last_field:
        groups.append(_group(eq(last_field, text)))
    if first_field and len(tokens) == 1:
        groups.append(_group(eq(first_field, text)))
    return check_limits(groups)


def dynamic_filter_groups(conditions: Iterable[Condition], join: str) -> list[FilterGroup]:
    """The workflow model's conditions as filter groups: ``and`` is one group, ``or`` one
    group per condition. Over HubSpot's limits is refused rather than truncated."""
    filters = [(eq if c.operator == "equals" else neq)(c.field, c.value) for c in conditions]
    if not filters:
        raise CrmRejectedError("A dynamic search needs at least one condition")
    groups = [_group(*filters)] if join == "and" else [_group(f) for f in filters]
    return check_limits(groups)


def search_body(
    groups: Sequence[FilterGroup],
    properties: Sequence[str],
    limit: int,
    after: str | None = None,
    sort_property: str | None = None,
) -> dict[str, Any]:
    """The JSON body of one search page (page size capped at HubSpot's 200)."""
    body: dict[str, Any] = {
        "filterGroups": list(groups),
        "properties": list(properties),
        "limit": max(1, min(limit, 200)),
    }
    if sort_property:
        body["sorts"] = [{"propertyName": sort_property, "direction": "DESCENDING"}]
    if after:
        body["after"] = after
    return body
