"""Pure: a form generated from a settings model (a CRM type's, ``crm.config.settings_schema``;
a platform connector's, ``bot.connectors.models.SETTINGS_MODELS``; a start-up step's), and
the form's answer back to the store's input; and an ``AppError``'s field path to the form
field it belongs to."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from multidict import MultiMapping
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from crm.config import TypeSettings, settings_schema

__all__ = [
    "FormField",
    "model_fields",
    "posted_status",
    "errors_of_validation",
    "secret_fields",
    "settings_fields",
    "settings_from_form",
    "secrets_from_form",
    "values_from_form",
]

Widget = Literal["text", "number", "select", "list", "pairs", "json"]


@dataclass(frozen=True)
class FormField:
    name: str  # the setting's name; the form field is ``<prefix><name>``
    widget: Widget
    required: bool
    default: str  # shown as placeholder
    value: str  # current value, as the input shows it
    options: tuple[str, ...] = ()


def _widget(annotation: Any) -> tuple[Widget, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _widget(args[0])
    if origin is Literal:
        return "select", tuple(str(a) for a in typing.get_args(annotation))
    if annotation is bool:
        return "select", ("true", "false")
    if annotation in (int, float):
        return "number", ()
    if origin is list and args == [str]:
        return "list", ()
    if origin is dict and args == [str, str]:
        return "pairs", ()
    if annotation is str:
        return "text", ()
    return "json", ()


def _shown(value: Any, widget: Widget) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if widget == "list" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if widget == "pairs" and isinstance(value, dict):
        return "\n".join(f"{k} = {v}" for k, v in value.items())
    if widget == "json":
        return json.dumps(value)
    return str(value)


def _default(info: FieldInfo, widget: Widget) -> str:
    if info.is_required():
        return ""
    value = info.get_default(call_default_factory=True)
    return _shown(value, widget)


def model_fields(model: type[BaseModel], current: Mapping[str, Any]) -> list[FormField]:
    """One form field per field of ``model``, in its order (named by alias, as the API);
    ``current`` holds the values shown."""
    fields = []
    for name, info in model.model_fields.items():
        widget, options = _widget(info.annotation)
        key = info.alias or name
        fields.append(
            FormField(
                name=key,
                widget=widget,
                required=info.is_required(),
                default=_default(info, widget),
                value=_shown(current.get(key), widget),
                options=options,
            )
        )
    return fields


def settings_fields(integration_type: str, current: Mapping[str, Any]) -> list[FormField]:
    """One form field per setting of the CRM type, in the model's order."""
    schema: type[TypeSettings] = settings_schema(integration_type)
    return model_fields(schema, current)


def secret_fields(integration_type: str) -> list[str]:
    return list(settings_schema(integration_type).SECRETS or {})


def values_from_form(
    fields: list[FormField], form: Mapping[str, str], prefix: str = "settings."
) -> dict[str, Any]:
    """The values an admin filled in (empty inputs: not given, so the default applies)."""
    settings: dict[str, Any] = {}
    for spec in fields:
        raw = form.get(f"{prefix}{spec.name}", "").strip()
        if not raw:
            continue
        if spec.widget == "list":
            settings[spec.name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif spec.widget == "pairs":
            settings[spec.name] = _pairs(raw)
        elif spec.widget == "json":
            try:
                settings[spec.name] = json.loads(raw)
            except ValueError:
                settings[spec.name] = raw  # the store names the field and what it wants
        else:
            settings[spec.name] = raw
    return settings


def _pairs(raw: str) -> dict[str, str] | str:
    """``name = value`` lines as a mapping (a line without ``=``: the text as given, so
    validation names the field)."""
    pairs: dict[str, str] = {}
    for line in raw.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            return raw
        pairs[name.strip()] = value.strip()
    return pairs


def settings_from_form(integration_type: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The settings of a CRM type's form."""
    return values_from_form(settings_fields(integration_type, {}), form)


def secrets_from_form(names: Iterable[str], form: Mapping[str, str]) -> dict[str, str | None]:
    """Secrets (of ``names``) typed in (write-only: an empty input keeps the stored value);
    a ticked "remove" box removes one."""
    given: dict[str, str | None] = {}
    for name in names:
        if form.get(f"remove.{name}"):
            given[name] = None
        elif value := form.get(f"secrets.{name}", "").strip():
            given[name] = value
    return given


def errors_of_validation(exc: ValidationError, model: type[BaseModel]) -> dict[str, str]:
    """A pydantic error per form field (the field's alias path, as the API names it)."""
    errors: dict[str, str] = {}
    aliases = {name: info.alias or name for name, info in model.model_fields.items()}
    for error in exc.errors(include_url=False):
        parts = [str(p) for p in error["loc"]]
        if parts:
            parts[0] = aliases.get(parts[0], parts[0])
        errors.setdefault(".".join(parts), error["msg"].removeprefix("Value error, "))
    return errors


def posted_status(form: MultiMapping[Any]) -> Literal["active", "inactive"]:
    """The status an activate/deactivate form asks for."""
    return "active" if form.get("status") == "active" else "inactive"
