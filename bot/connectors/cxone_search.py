"""Pure: the anchor's custom search (``workflowInput.search: [{entity, filter}]``, one
filter dialect per CRM, anchor-cxone-model.md §3) -> our search criteria
(``[{recordType, columns: [{field, operator, value}], condition}]``).

    Salesforce  a=1 or b!=2          ServiceNow  a=1^ORb!=2       Dynamics  a eq 1 and b ne 2
    Zendesk     a:1 b:2 (and)        HubSpot     {filterGroups: [{filters: [{propertyName,
                                                  operator: EQ|NEQ, value}]}]}

One search joins its conditions one way (all ``and`` or all ``or``), as our criteria do.
"""

from __future__ import annotations

import re
from typing import Any

from crm.errors import InputError

__all__ = ["custom_search"]

_OR, _AND = re.compile(r"\s+or\s+", re.I), re.compile(r"\s+and\s+", re.I)
_COMPARISON = re.compile(r"=|\s(?:eq|ne)\s", re.I)
_TERM = re.compile(
    r"^\s*(?P<field>[\w.]+)\s*(?P<op>!=|=|:|\s(?:eq|ne)\s)\s*(?P<value>.*?)\s*$", re.I
)


def _fail(index: int, message: str) -> InputError:
    where = f"workflowInput.search[{index}].filter"
    return InputError(f"{where}: {message}", code="invalid_field", field=where)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _terms(text: str, index: int) -> tuple[list[str], str]:
    """The conditions of one filter and how they are joined."""
    if "^" in text:  # ServiceNow encoded query
        ors, ands = "^OR" in text, re.search(r"\^(?!OR)", text) is not None
        parts, condition = re.split(r"\^OR|\^", text), "or" if ors else "and"
    elif _OR.search(text) or _AND.search(text):
        ors, ands = _OR.search(text) is not None, _AND.search(text) is not None
        parts, condition = (_OR if ors else _AND).split(text), "or" if ors else "and"
    elif ":" in text and not _COMPARISON.search(text):  # Zendesk: all must match
        return text.split(), "and"
    else:
        return [text], "and"
    if ors and ands:
        raise _fail(index, "mixes 'and' and 'or'; one search joins one way")
    return parts, condition


def _column(term: str, index: int) -> dict[str, str]:
    match = _TERM.match(term)
    if match is None:
        raise _fail(index, f"cannot read the condition '{term.strip()}'")
    op = match["op"].strip().lower()
    operator = "notequals" if op in ("!=", "ne") else "equals"
    return {"field": match["field"], "operator": operator, "value": _unquote(match["value"])}


def _hubspot(filter_: dict[str, Any], index: int) -> tuple[list[dict[str, str]], str]:
    groups = filter_.get("filterGroups") or []
    columns = [
        {
            "field": str(f.get("propertyName", "")),
            "operator": "notequals" if str(f.get("operator", "EQ")).upper() == "NEQ" else "equals",
            "value": str(f.get("value", "")),
        }
        for group in groups
        for f in (group.get("filters") or [])
    ]
    if len(groups) > 1 and any(len(g.get("filters") or []) > 1 for g in groups):
        raise _fail(index, "mixes 'and' and 'or'; one search joins one way")
    return columns, "or" if len(groups) > 1 else "and"


def custom_search(items: list[Any]) -> list[dict[str, Any]]:
    """Our criteria for the anchor's ``search`` list (our own shape passes unchanged)."""
    criteria: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _fail(index, "must be an object")
        if "columns" in item:  # already ours
            criteria.append(item)
            continue
        entity, filter_ = item.get("entity"), item.get("filter")
        if not entity:
            where = f"workflowInput.search[{index}].entity"
            raise InputError(f"{where}: required", code="invalid_field", field=where)
        if isinstance(filter_, dict):
            columns, condition = _hubspot(filter_, index)
        elif isinstance(filter_, str) and filter_.strip():
            terms, condition = _terms(filter_, index)
            columns = [_column(term, index) for term in terms if term.strip()]
        else:
            raise _fail(index, "required")
        if not columns:
            raise _fail(index, "names no condition")
        criteria.append({"recordType": entity, "columns": columns, "condition": condition})
    return criteria
