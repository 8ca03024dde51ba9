"""ROQL for the Oracle B2C Service adapter: pure functions, no I/O.

Values become single-quoted ROQL literals with ``\\`` and ``'`` escaped by a backslash.
Two things are rejected instead (``InputError``): control characters, and ``;``, because
``queryResults`` splits a query into statements at semicolons and a value must never be able
to start a second statement. Field paths are checked against a strict identifier pattern
before they are written into a query, so a condition cannot smuggle in operators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ...errors import InputError
from ...models import Condition

__all__ = [
    "quote_roql",
    "check_path",
    "comparison",
    "phone_where",
    "email_where",
    "text_where",
    "dynamic_where",
    "ids_where",
    "select",
]

_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,3}$")
_FORBIDDEN = re.compile(r"[;\x00-\x1f\x7f]")


def quote_roql(value: str) -> str:
    """``value`` as a ROQL string literal."""
    if _FORBIDDEN.search(value):
        raise InputError("Search values may not contain ';' or control characters", field="value")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def check_path(path: str) -> str:
    if not _PATH.match(path):
        raise InputError(f"Invalid ROQL field {path!r}", field="field")
    return path


def comparison(path: str, value: str, *, negate: bool = False) -> str:
    return f"{check_path(path)} {'!=' if negate else '='} {quote_roql(value)}"


def _any_of(parts: Iterable[str]) -> str:
    parts = list(dict.fromkeys(parts))
    if not parts:
        raise InputError("Nothing to search for", field="value")
    return "(" + " OR ".join(parts) + ")"


def phone_where(digit_forms: Iterable[str], paths: Iterable[str] = ("phones.rawNumber",)) -> str:
    """Any phone whose digits-only form is one of ``digit_forms``."""
    forms = [d for d in digit_forms if d]
    if any(not d.isdigit() for d in forms):
        raise InputError("Phone forms must be digits", field="number")
    return _any_of(comparison(path, d) for path in paths for d in forms)


def email_where(email: str) -> str:
    return comparison("emails.address", email.strip())


def text_where(record_type: str, text: str) -> str:
    """Names equal to the words of ``text``: first, last, both, or the whole display name."""
    words = text.split()
    if not words:
        raise InputError("Nothing to search for", field="text")
    whole = " ".join(words)
    if record_type == "contact":
        parts = [comparison("lookupName", whole)]
        if len(words) == 1:
            parts += [comparison("name.first", whole), comparison("name.last", whole)]
        else:
            first, last = words[0], " ".join(words[1:])
            parts.append(f"({comparison('name.first', first)} AND {comparison('name.last', last)})")
        return _any_of(parts)
    field = "subject" if record_type == "incident" else "name"
    return _any_of([comparison(field, whole), comparison("lookupName", whole)])


def dynamic_where(conditions: Iterable[Condition], join: str, paths: Mapping[str, str]) -> str:
    """A WHERE clause for the workflow's conditions; ``paths`` maps field names to ROQL."""
    parts = []
    for cond in conditions:
        path = paths.get(cond.field)
        if path is None:
            raise InputError(f"Unknown field {cond.field!r}", field="field")
        parts.append(comparison(path, cond.value, negate=cond.operator == "notequals"))
    if not parts:
        raise InputError("A dynamic search needs at least one condition", field="conditions")
    return "(" + f" {join.upper()} ".join(parts) + ")"


def ids_where(ids: Iterable[str]) -> str:
    """``id IN (...)`` for ids the CRM returned (digits only)."""
    ids = list(ids)
    if not ids or any(not i.isdigit() for i in ids):
        raise InputError("Oracle ids are numbers", field="id")
    return f"id IN ({', '.join(ids)})"


def select(collection: str, columns: Iterable[str], where: str) -> str:
    """One tabular ROQL statement (never more: no ``;`` can reach it)."""
    cols = ", ".join(check_path(c) for c in columns)
    return f"SELECT {cols} FROM {check_path(collection)} WHERE {where}"
