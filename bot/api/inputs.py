"""Hostile input at the HTTP edge, refused in one place: every JSON body is parsed by
:func:`parse_json`, every header, path parameter and query value passes
:func:`~bot.api.input_middleware.input_middleware` (which uses :func:`check_text`).

Refused with 400 naming the field (``recordTypes[0].fields[1]``, the one path syntax):

- JSON nested deeper than :data:`MAX_DEPTH` (a deep document exhausts the recursion of the
  parser, the validators and the JSON column writers);
- an integer outside 64 bits (the databases' BIGINT; Python itself refuses a number of
  over 4,300 digits with a ValueError), and NaN or Infinity (not JSON; PostgreSQL's JSON
  types refuse them);
- a NUL character or a lone surrogate in any string or key: PostgreSQL's ``text`` and
  ``jsonb`` cannot hold U+0000 and a surrogate is not UTF-8. Refused rather than stripped,
  so what is stored is what was sent.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from crm.errors import InputError, field_path

__all__ = [
    "INT64_MAX",
    "MAX_DEPTH",
    "check_json_value",
    "check_text",
    "parse_json",
    "whole_number",
]

MAX_DEPTH = 64
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# U+0000 and lone surrogates (a str from JSON escapes or surrogateescape'd bytes)
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class _Refused:
    """A number the parser met that the service refuses (kept until the walk can name its
    field)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse_int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > 19:  # decided before int(): 4,301 digits raise ValueError
        return _Refused("is an integer outside 64 bits")
    number = int(text)
    if not INT64_MIN <= number <= INT64_MAX:
        return _Refused("is an integer outside 64 bits")
    return number


def _parse_float(text: str) -> float | _Refused:
    number = float(text)
    return number if math.isfinite(number) else _Refused("is a number outside the float range")


def _parse_constant(name: str) -> _Refused:
    return _Refused(f"is {name}, which is not JSON")


def _refuse(parts: tuple[str | int, ...], what: str, code: str) -> InputError:
    where = field_path(parts)
    return InputError(f"{where}: {what}" if where else what, code=code, field=where or None)


def check_text(value: str, parts: tuple[str | int, ...]) -> None:
    """400 when ``value`` holds a NUL character or a lone surrogate."""
    if _BAD_TEXT.search(value):
        raise _refuse(parts, "contains a NUL character or text that is not UTF-8", "invalid_text")


def check_json_value(data: Any, root: tuple[str | int, ...] = ()) -> None:
    """Walk ``data`` (iteratively: no recursion to exhaust) and refuse what a database or a
    serializer downstream cannot take; the first offender is named."""
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(data, root, 0)]
    while stack:
        value, parts, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise _refuse(parts, f"is nested deeper than {MAX_DEPTH} levels", "too_deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in reversed(list(items)):
                if isinstance(key, str):
                    check_text(key, parts)
                stack.append((item, (*parts, key), depth + 1))
        elif isinstance(value, str):
            check_text(value, parts)
        elif isinstance(value, _Refused):
            raise _refuse(parts, value.reason, "number_out_of_range")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise _refuse(parts, "is an integer outside 64 bits", "number_out_of_range")
        elif isinstance(value, float) and not math.isfinite(value):
            raise _refuse(parts, "is a number outside the float range", "number_out_of_range")


def parse_json(raw: bytes) -> Any:
    """The body as JSON, checked by :func:`check_json_value`; 400 ``invalid_json`` when it
    is not JSON (or nests past the parser's own recursion limit)."""
    try:
        data = json.loads(
            raw,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        raise InputError(
            f"Body is nested deeper than {MAX_DEPTH} levels.", code="invalid_json"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"Body is not valid JSON: {exc}", code="invalid_json") from None
    check_json_value(data)
    return data


def whole_number(value: str, name: str, minimum: int = 1) -> int:
    """A path or query parameter as an integer from ``minimum`` to 2**63-1 (a BIGINT)."""
    digits = value.removeprefix("-")
    if not digits.isdigit() or not digits.isascii():
        raise InputError(f"{name}: must be a whole number", field=name)
    if len(digits) > 19 or not minimum <= int(value) <= INT64_MAX:
        raise InputError(f"{name}: must be from {minimum} to {INT64_MAX}", field=name)
    return int(value)
