"""The base of every integration type's settings model, and its validation.

Each CRM defines its settings once, in its own package (``crm/adapters/<vendor>/settings.py``,
``crm/demo/settings.py``), as a subclass of :class:`TypeSettings`, and registers it with its
adapter factory (:func:`crm.registry.register`). The configuration API validates an admin's
settings with that model (:func:`crm.config.validate_settings`), and the registry builds the
adapter from the validated model: a name the model refuses cannot be stored, and there is no
second list of names in the adapter to keep in step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError, CrmError, error_field

__all__ = [
    "TypeSettings",
    "GenericSettings",
    "parse_settings",
    "http_url",
    "host_label",
    "host_name",
    "checked_names",
]


class TypeSettings(BaseModel):
    """Base of every type's settings. ``SECRETS`` maps each secret name the type takes to
    the auth methods that need it (an empty tuple: optional; ``None``: any names)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {}

    def auth_method(self) -> str:
        return str(getattr(self, "auth", "default"))

    def required_secrets(self) -> set[str]:
        method = self.auth_method()
        return {name for name, methods in (self.SECRETS or {}).items() if method in methods}

    def required_settings_problem(self) -> tuple[str, str] | None:
        """A setting the chosen auth method needs but is missing: (name, why)."""
        return None


class GenericSettings(TypeSettings):
    """For integration types registered without a model of their own (tests add such)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = None  # any names


S = TypeVar("S", bound=TypeSettings)


def parse_settings(schema: type[S], integration_type: str, settings: Mapping[str, Any]) -> S:
    """``settings`` through ``schema``, or a ``ConfigError`` naming ``settings.<field>``."""
    try:
        parsed = schema.model_validate(dict(settings))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # a misspelt setting explains the "required" error of the name it was meant to be:
        # report unknown names before missing ones
        first = sorted(errors, key=lambda e: e["type"] == "missing")[0]
        name = error_field(first, dict(settings))
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            known = ", ".join(schema.model_fields)
            message = f"not a {integration_type} setting; known settings: {known}"
            if name in (schema.SECRETS or {}):
                message = (
                    f"{integration_type} takes '{name}' as a secret, not a setting: "
                    f"give it under secrets; known settings: {known}"
                )
        raise ConfigError(
            f"settings.{name}: {message}", code="invalid_setting", field=f"settings.{name}"
        ) from None
    problem = parsed.required_settings_problem()
    if problem is not None:
        raise ConfigError(
            f"settings.{problem[0]}: {problem[1]}",
            code="invalid_setting",
            field=f"settings.{problem[0]}",
        )
    return parsed


# --- field validators shared by the settings models -------------------------------------


def http_url(value: str | None) -> str | None:
    """An http(s) URL without its trailing slash."""
    if value is None:
        return None
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("must be an http(s) URL, e.g. https://example.com")
    return value.rstrip("/")


def host_label(value: str | None) -> str | None:
    """A bare host label such as a subdomain (``acme``), not a URL."""
    if value is not None and not re.match(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$", value):
        raise ValueError("must be a bare name (letters, digits, '-'), not a URL")
    return value


def host_name(value: str | None) -> str | None:
    """A host name with dots (``acme.custhelp.com``), not a URL."""
    if value is not None and not re.match(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", value):
        raise ValueError("must be a host name such as acme.custhelp.com, not a URL")
    return value


def checked_names(check: Callable[[str], str]) -> Callable[[list[str] | None], list[str] | None]:
    """A validator that runs an adapter's own name check over a list of names, so a bad
    table or object name is a settings error instead of a CRM error at build time."""

    def validate(names: list[str] | None) -> list[str] | None:
        for name in names or ():
            try:
                check(name)
            except CrmError as exc:
                raise ValueError(exc.detail) from None
        return names

    return validate
