"""Pure SOQL and SOSL builders for the Salesforce adapter: no I/O, every value escaped.

Values only ever enter a query through ``quote_soql_value`` (string literals),
``soql_like_pattern`` (``LIKE`` literals, with ``%`` and ``_`` made literal) or
``sosl_phone_terms`` (digits only), and names only through ``check_api_name``, so a search
can never match more than it was asked to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...errors import CrmRejectedError, InputError
from ...models import Condition, check_conditions
from ...phone import digits_only

__all__ = [
    "check_api_name",
    "quote_soql_value",
    "soql_like_pattern",
    "escape_sosl_term",
    "build_select",
    "build_where_equals",
    "build_where_like",
    "build_dynamic_where",
    "sosl_phone_terms",
    "ReturningSpec",
    "build_phone_sosl",
]

# Object and field API names: letters, digits and single underscores, custom ones ending in
# __c / __r (and namespaced ns__Name__c). Relationship paths (Account.Name) are allowed in
# field positions only.
_API_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?:__[A-Za-z0-9]+(?:__[a-z]{1,3})?)?$")

# Escape sequences SOQL accepts inside a string literal.
_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}

# Characters SOSL reserves inside FIND {...}; each must be preceded by a backslash.
SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")


def check_api_name(name: str, *, path: bool = False, what: str = "field") -> str:
    """``name`` if it is a valid object/field API name; ``CrmRejectedError`` otherwise (the
    same answer Salesforce gives an unknown name, without sending it).

    Names come from configurations and workflows, never from callers' free text, but they are
    still validated: a name is pasted into the query, not quoted.
    """
    parts = name.split(".") if path else [name]
    if not name or len(parts) > 5 or not all(_API_NAME.match(part) for part in parts):
        raise CrmRejectedError(f"Invalid Salesforce {what} name {name[:80]!r}", field=what)
    return name


def _strip_controls(value: str) -> str:
    # SOQL has no escape for other control characters; they never belong in a search value.
    return "".join(ch for ch in value if ch >= " " or ch in "\n\r\t\b\f")


def quote_soql_value(value: str) -> str:
    """A SOQL string literal (quotes included) that compares equal to ``value`` only."""
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in _strip_controls(value)) + "'"


def soql_like_pattern(value: str, *, contains: bool = True) -> str:
    """A ``LIKE`` literal matching ``value`` literally (``%`` and ``_`` escaped), as a
    substring when ``contains``."""
    body = "".join(
        "\\" + ch if ch in "%_" else _SOQL_ESCAPES.get(ch, ch) for ch in _strip_controls(value)
    )
    return "'%" + body + "%'" if contains else "'" + body + "'"


def escape_sosl_term(value: str) -> str:
    """``value`` as one quoted SOSL phrase: reserved characters backslash-escaped."""
    cleaned = " ".join(_strip_controls(value).split())
    return '"' + "".join("\\" + ch if ch in SOSL_RESERVED else ch for ch in cleaned) + '"'


def build_select(
    sobject: str,
    fields: Sequence[str],
    where: str | None = None,
    *,
    limit: int | None = None,
    order_by: str | None = None,
) -> str:
    """``SELECT ... FROM ... [WHERE ...] [ORDER BY ...] [LIMIT n]`` with checked names."""
    names = [check_api_name(field, path=True) for field in dict.fromkeys(fields)] or ["Id"]
    soql = f"SELECT {', '.join(names)} FROM {check_api_name(sobject, what='record_type')}"
    if where:
        soql += f" WHERE {where}"
    if order_by:
        soql += f" ORDER BY {check_api_name(order_by, path=True)} DESC"
    if limit is not None:
        soql += f" LIMIT {max(1, int(limit))}"
    return soql


def build_where_equals(fields: Iterable[str], value: str) -> str:
    """``(f1 = 'v' OR f2 = 'v' ...)`` over ``fields``."""
    literal = quote_soql_value(value)
    parts = [f"{check_api_name(field, path=True)} = {literal}" for field in fields]
    return "(" + " OR ".join(parts) + ")"


def build_where_like(fields: Iterable[str], text: str) -> str:
    """``(f1 LIKE '%text%' OR ...)``: a literal substring match over ``fields``."""
    pattern = soql_like_pattern(text)
    parts = [f"{check_api_name(field, path=True)} LIKE {pattern}" for field in fields]
    return "(" + " OR ".join(parts) + ")"


def build_dynamic_where(conditions: Sequence[Condition], join: str) -> str:
    """The workflow model's conditions as one parenthesised SOQL condition."""
    check_conditions(conditions, join)
    operator = {"equals": "=", "notequals": "!="}
    parts = [
        f"{check_api_name(c.field, path=True)} {operator[c.operator]} {quote_soql_value(c.value)}"
        for c in conditions
    ]
    return "(" + f" {join.upper()} ".join(parts) + ")"


def sosl_phone_terms(variants: Iterable[str], *, min_digits: int = 3) -> list[str]:
    """Distinct digit strings of the phone variants worth searching (digits only, so no SOSL
    operator or reserved character can reach the query)."""
    terms = [digits_only(variant) for variant in variants]
    return list(dict.fromkeys(term for term in terms if len(term) >= min_digits))


@dataclass(frozen=True)
class ReturningSpec:
    """One ``RETURNING`` entry: an object, its fields, an optional condition and limit."""

    sobject: str
    fields: tuple[str, ...]
    where: str | None = None
    limit: int | None = None

    def render(self) -> str:
        names = [check_api_name(field, path=True) for field in dict.fromkeys(self.fields)]
        inner = ", ".join(names or ["Id"])
        if self.where:
            inner += f" WHERE {self.where}"
        if self.limit is not None:
            inner += f" LIMIT {max(1, int(self.limit))}"
        return f"{check_api_name(self.sobject, what='record_type')}({inner})"


def build_phone_sosl(terms: Sequence[str], returning: Sequence[ReturningSpec], limit: int) -> str:
    """``FIND {"t1" OR "t2"} IN PHONE FIELDS RETURNING ... LIMIT n``."""
    if not terms:
        raise InputError("No phone number to search for", field="number")
    find = " OR ".join(escape_sosl_term(term) for term in terms)
    spec = ", ".join(item.render() for item in returning)
    return f"FIND {{{find}}} IN PHONE FIELDS RETURNING {spec} LIMIT {max(1, int(limit))}"
