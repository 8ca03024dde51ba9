"""Pure: the start-up steps' form, an ordered list with a form per step generated from that
step kind's model (``crm.startup``), and its answer back to the steps.

Form names: ``kind`` (each step's kind, in order) and ``s.<i>.<field>`` (step i's field, by
its API name); ``op`` moves, removes or adds a step (``up:<i>``, ``down:<i>``,
``remove:<i>``, ``add`` with ``add_kind``) before anything is saved. Errors are keyed
``s.<i>.<field>``, or ``s.<i>`` for the step as a whole."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping
from pydantic import BaseModel, TypeAdapter, ValidationError

from crm.errors import AppError
from crm.startup import StartupStep, check_startup_steps

from .forms import FormField, model_fields, values_from_form

__all__ = [
    "STEP_KINDS",
    "StepRow",
    "field_of_error",
    "rows_of_form",
    "rows_of_steps",
    "step_fields",
    "steps_of_rows",
]

_UNION = typing.get_args(typing.get_args(StartupStep)[0])
_MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["step"].default: model for model in _UNION
}
STEP_KINDS: tuple[str, ...] = tuple(_MODELS)
_STEP: TypeAdapter[StartupStep] = TypeAdapter(StartupStep)


@dataclass(frozen=True)
class StepRow:
    kind: str
    values: Mapping[str, Any] = field(default_factory=dict)  # by API name; typed or as typed


def step_fields(kind: str, current: Mapping[str, Any]) -> list[FormField]:
    """The step's own fields (its kind is the row's)."""
    return [f for f in model_fields(_MODELS[kind], current) if f.name != "step"]


def rows_of_steps(steps: Sequence[Any]) -> list[StepRow]:
    dumped = [_STEP.dump_python(step, mode="json", by_alias=True) for step in steps]
    return [StepRow(d.pop("step"), d) for d in dumped]


def rows_of_form(form: MultiMapping[Any]) -> list[StepRow]:
    """The steps as posted (values as typed), after the operation asked for."""
    rows = []
    for index, kind in enumerate(str(k) for k in form.getall("kind", [])):
        if kind in _MODELS:
            prefix = f"s.{index}."
            values = {f.name: str(form.get(prefix + f.name, "")) for f in step_fields(kind, {})}
            rows.append(StepRow(kind, values))
    op, _, at = str(form.get("op", "")).partition(":")
    i = int(at) if at.isdigit() and int(at) < len(rows) else None
    if op == "remove" and i is not None:
        rows.pop(i)
    elif op == "up" and i:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif op == "down" and i is not None and i + 1 < len(rows):
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
    elif op == "add" and str(form.get("add_kind", "")) in _MODELS:
        rows.append(StepRow(str(form.get("add_kind"))))
    return rows


def steps_of_rows(rows: Sequence[StepRow]) -> tuple[list[StartupStep], dict[str, str]]:
    """The steps, and every problem at its field (``s.<i>.<field>``) or step (``s.<i>``)."""
    steps: list[StartupStep] = []
    errors: dict[str, str] = {}
    for index, row in enumerate(rows):
        raw = {k: str(v) for k, v in row.values.items()}
        values = values_from_form(step_fields(row.kind, {}), raw, prefix="")
        try:
            steps.append(_STEP.validate_python({"step": row.kind, **values}))
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = [str(p) for p in error["loc"]][1:]  # after the kind's tag
                key = ".".join([f"s.{index}", *where[:1]])
                errors.setdefault(key, error["msg"].removeprefix("Value error, "))
    if not errors:
        try:
            check_startup_steps(steps)
        except AppError as exc:
            errors[field_of_error(exc.field or "")] = exc.detail or exc.code
    return steps, errors


def field_of_error(api_field: str) -> str:
    """The API's ``startup[i]`` (or ``startup[i].name``) as the form's key."""
    if api_field.startswith("startup[") and "]" in api_field:
        index, _, rest = api_field[8:].partition("]")
        if index.isdigit():
            return f"s.{index}" + rest
    return "_form"
