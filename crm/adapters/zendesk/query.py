"""Zendesk search queries built from vendor-neutral searches: pure functions, no I/O.

Zendesk's search language (``GET /api/v2/search?query=...``) has no escape character: a
value is made literal by putting it in double quotes, and inside quotes a ``"`` cannot be
written at all. ``*`` is a wildcard, a leading ``-`` negates a term and ``field:value``
selects a field. So every value goes through :func:`quote_search_value`, which drops the
characters that could change the meaning of the phrase (``"``, ``\\``, ``*`` and control
characters) and quotes the rest. Dropping characters can only widen what Zendesk returns,
never narrow it, so the adapter filters every result against the original value
(:func:`matches_text`, :func:`matches_email`) before returning it: a search never matches
more than it was asked to.

Terms are combined with AND. Zendesk cannot OR arbitrary fields, so an ``or`` join is
answered with one query per condition, merged by the adapter (:func:`dynamic_queries`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ...errors import InputError
from ...models import Condition, FieldValue
from .wire import _str

__all__ = [
    "quote_search_value",
    "field_term",
    "type_term",
    "phone_query",
    "email_query",
    "text_query",
    "dynamic_queries",
    "check_field_name",
    "matches_text",
    "matches_email",
    "conditions_hold",
]

# Characters that carry meaning even inside a quoted phrase (or end it).
_UNSAFE = re.compile(r'["\\*\x00-\x1f\x7f]')
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")
# Zendesk's own search types; anything else would become an injection point.
_SEARCH_TYPES = frozenset({"user", "ticket", "organization", "group"})


def quote_search_value(value: str) -> str:
    """``value`` as one literal, double-quoted Zendesk search phrase.

    Raises ``InputError`` when nothing searchable is left (``"*"``, ``'""'``): an empty
    phrase would match everything.
    """
    cleaned = " ".join(_UNSAFE.sub(" ", value).split())
    if not cleaned:
        raise InputError("The search value has no searchable characters", field="value")
    return f'"{cleaned}"'


def check_field_name(name: str) -> str:
    """A field name safe to put before ``:`` (letters, digits, ``_`` and ``.`` only)."""
    if not _FIELD_NAME.match(name):
        raise InputError(f"Invalid Zendesk search field {name!r}", field="field")
    return name


def type_term(record_type: str) -> str:
    if record_type not in _SEARCH_TYPES:
        raise InputError(f"Zendesk cannot search {record_type!r}", field="record_type")
    return f"type:{record_type}"


def field_term(field: str, value: str, *, negate: bool = False) -> str:
    """``field:"value"`` or ``-field:"value"``."""
    term = f"{check_field_name(field)}:{quote_search_value(value)}"
    return f"-{term}" if negate else term


def phone_query(national_digits: str, field: str = "phone") -> str:
    """Users whose phone ends with the national significant number, in any format.

    Zendesk compares phone numbers on their digits and documents a leading ``*`` to match
    any prefix (country code, trunk ``0``); the adapter then keeps only exact matches.
    """
    if not national_digits.isdigit():
        raise InputError("A phone search needs digits", field="number")
    return f"type:user {check_field_name(field)}:*{national_digits}"


def email_query(email: str) -> str:
    return f"type:user email:{quote_search_value(email)}"


def text_query(record_type: str, text: str) -> str:
    field = "subject" if record_type == "ticket" else "name"
    return f"{type_term(record_type)} {field}:{quote_search_value(text)}"


def dynamic_queries(record_type: str, conditions: Iterable[Condition], join: str) -> list[str]:
    """Queries for a dynamic search: one ANDed query, or one query per condition for ``or``.

    A condition whose value has nothing searchable left cannot be expressed: an ``equals``
    one matches nothing (dropped from an ``or``, empties an ``and``: ``InputError``), a
    ``notequals`` one is left to the adapter's re-check of every result.
    """
    head = type_term(record_type)
    terms: list[str] = []
    for cond in conditions:
        negate = cond.operator == "notequals"
        try:
            terms.append(field_term(cond.field, cond.value, negate=negate))
        except InputError:
            if join == "and" and not negate:
                raise
            if negate and join == "or":
                terms.append("")  # "field is not <nothing>": every record of the type
    if not terms and join == "or":
        raise InputError("No condition of the dynamic search is searchable", field="conditions")
    if join == "and":
        return [" ".join([head, *terms]).strip()]
    return [f"{head} {term}".strip() for term in terms]


def _words(text: str) -> list[str]:
    return text.casefold().split()


def matches_text(candidate: str, text: str) -> bool:
    """Every word of ``text`` occurs in ``candidate`` (case-insensitive)."""
    words = _words(text)
    haystack = candidate.casefold()
    return bool(words) and all(word in haystack for word in words)


def matches_email(candidate: str | None, email: str) -> bool:
    return candidate is not None and candidate.strip().casefold() == email.strip().casefold()


def conditions_hold(
    fields: Mapping[str, FieldValue], conditions: Iterable[Condition], join: str
) -> bool:
    """Whether a found record meets the conditions on the fields it carries: search matches
    words, the workflow asked for equality. A search-only keyword (tags, requester, ...)
    the record does not carry is left to Zendesk."""
    checks = []
    for cond in conditions:
        if cond.field not in fields:
            continue
        equal = _str(fields[cond.field]).casefold() == cond.value.casefold()
        checks.append(equal if cond.operator == "equals" else not equal)
    if not checks:
        return True
    return all(checks) if join == "and" else any(checks)
