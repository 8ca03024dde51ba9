"""Pure: the mapping forms' answers as the store's input, and validation problems as
errors per form field.

Form names: ``rt`` (the record types, in order); a dynamic data mapping's ``f.<i>`` (the
fields chosen for record type ``i``, in order); a memorialization mapping's
``src.<i>.<field>`` (``voice:<name>``, ``digital:<name>`` or ``script_variable``) and
``var.<i>.<field>`` (the script variable's name)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping
from pydantic import ValidationError

from crm.models import FieldInfo, RecordType

__all__ = [
    "FormData",
    "Picker",
    "picker",
    "dynamic_from_form",
    "loc_path",
    "memorialization_from_form",
    "record_types_of",
    "validation_errors",
]


FormData = MultiMapping[Any]  # a request's form (aiohttp's MultiDictProxy)


def record_types_of(form: FormData) -> list[str]:
    """The record types named, in order, once each; ``op=add`` appends ``add_type`` and
    ``op=remove:<i>`` drops the i-th."""
    names = [str(v) for v in form.getall("rt", []) if str(v).strip()]
    op = str(form.get("op", ""))
    if op.startswith("remove:") and op[7:].isdigit() and int(op[7:]) < len(names):
        names.pop(int(op[7:]))
    added = str(form.get("add_type", "")).strip()
    if op == "add" and added and added.lower() not in {n.lower() for n in names}:
        names.append(added)
    return names


def _head(form: FormData) -> dict[str, Any]:
    return {
        "name": str(form.get("name", "")).strip(),
        "description": str(form.get("description", "")).strip(),
    }


def dynamic_from_form(form: FormData, names: Sequence[str]) -> dict[str, Any]:
    record_types = []
    for i, name in enumerate(names):
        fields = [str(v) for v in form.getall(f"f.{i}", [])]
        record_types.append({"recordType": name, "fields": fields})
    return {**_head(form), "recordTypes": record_types}


def memorialization_from_form(
    form: FormData, names: Sequence[str], fields_of: Mapping[str, Iterable[str]]
) -> dict[str, Any]:
    """``fields_of``: per record type the CRM fields the form offered."""
    record_types = []
    for i, name in enumerate(names):
        rules = []
        for field in fields_of.get(name, ()):
            choice = str(form.get(f"src.{i}.{field}", ""))
            if not choice:
                continue
            channel, _, source = choice.partition(":")
            if channel == "script_variable":
                source = str(form.get(f"var.{i}.{field}", "")).strip().lower()
            rules.append({"crmField": field, "source": {"channel": channel, "field": source}})
        record_types.append({"recordType": name, "fields": rules})
    return {**_head(form), "recordTypes": record_types}


def loc_path(loc: Iterable[Any]) -> str:
    """A pydantic location as the API names fields: ``recordTypes[0].fields[2].crmField``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


_ALIASES = {"record_types": "recordTypes", "crm_field": "crmField"}


def validation_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = [_ALIASES.get(p, p) if isinstance(p, str) else p for p in error["loc"]]
        errors.setdefault(loc_path(loc), error["msg"].removeprefix("Value error, "))
    return errors


@dataclass(frozen=True)
class Picker:
    """One record type's part of a mapping form: its fields (the chosen first, in their
    order), what is chosen, and the problems by field name."""

    index: int
    record_type: RecordType
    fields: list[FieldInfo]
    chosen: dict[str, Any]  # field name -> True (card) or its source rule (memorialization)
    error: str  # about the record type as a whole
    field_errors: dict[str, str]


def picker(
    index: int,
    record_type: RecordType,
    offered: Sequence[FieldInfo],
    item: Mapping[str, Any],
    errors: Mapping[str, str],
) -> Picker:
    entries = list(item.get("fields", []))
    names = [e["crmField"] if isinstance(e, dict) else str(e) for e in entries]
    chosen = {n: (e if isinstance(e, dict) else True) for n, e in zip(names, entries, strict=True)}
    prefix = f"recordTypes[{index}]"
    field_errors: dict[str, str] = {}
    for j, name in enumerate(names):
        for key, message in errors.items():
            if key == f"{prefix}.fields[{j}]" or key.startswith(f"{prefix}.fields[{j}]."):
                field_errors.setdefault(name, message)
    whole = [
        m for k, m in errors.items() if k in (prefix, f"{prefix}.fields", f"{prefix}.recordType")
    ]
    order = {name: position for position, name in enumerate(names)}
    fields = sorted(offered, key=lambda f: order.get(f.name, len(order)))
    return Picker(index, record_type, fields, chosen, "; ".join(whole), field_errors)
