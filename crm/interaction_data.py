"""Interaction data as workflows and start-up steps see it, and ``{ANI}``-style references.

A template such as ``"{ANI}"`` or ``"Call from {Customer Name}"`` names platform fields the
way admins see them (``ANI``, ``Skill Name``, ``Transcription Text``, ...) or a script
variable (lowercase, e.g. ``{accountnumber}``). ``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import InputError

__all__ = ["InteractionData", "find_references", "fill_template", "fill_fields"]

_REFERENCE = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


class InteractionData(BaseModel):
    """What is known about one interaction: its ids, channel, platform fields and script
    variables. The bot core builds it from the interaction events it received."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    interaction_id: str | None = Field(default=None, alias="interactionId")
    contact_id: str | None = Field(default=None, alias="contactId")
    channel: Literal["voice", "digital"] = "voice"
    data: dict[str, str | int | float | bool | list[str] | None] = Field(default_factory=dict)
    script_variables: dict[str, str] = Field(default_factory=dict, alias="scriptVariables")

    def value_of(self, name: str) -> str | None:
        """The text of a platform field or script variable, ``None`` when unknown."""
        name = name.strip()
        value = self.data.get(name)
        if value is None:
            wanted = name.lower()
            value = next((v for k, v in self.data.items() if k.lower() == wanted), None)
        if value is None and name in self.script_variables:
            value = self.script_variables[name]
        if value is None and name.lower() == "interaction id":
            value = self.interaction_id
        if value is None and name.lower() == "contact id":
            value = self.contact_id
        if value is None:
            return None
        return _as_text(value)

    @property
    def ani(self) -> str | None:
        return self.value_of("ANI")

    @property
    def email(self) -> str | None:
        """The digital sender's address: ``From`` when it looks like one, else ``Email``."""
        sender = self.value_of("From") or ""
        if "@" in sender:
            return sender.strip()
        email = self.value_of("Email")
        return email.strip() if email else None


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def find_references(template: str) -> list[str]:
    """Names referenced in ``template`` (without braces), in order."""
    return [m.group(1).strip() for m in _REFERENCE.finditer(template) if m.group(1)]


def fill_template(template: str, data: InteractionData | None, *, field: str) -> str:
    """``template`` with every reference replaced by the interaction's value.

    An unknown reference, or any reference when there is no interaction, is an
    ``InputError`` naming ``field``: a search must never silently run with an empty value.
    """

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1).strip()
        if data is None:
            raise InputError(
                f"{field}: refers to {{{name}}} but the request names no interaction "
                "(give interactionId or the value itself)",
                code="reference_without_interaction",
                field=field,
            )
        value = data.value_of(name)
        if value is None:
            raise InputError(
                f"{field}: the interaction has no field or script variable '{name}'",
                code="unknown_reference",
                field=field,
            )
        return value

    return _REFERENCE.sub(replace, template)


def fill_fields(
    templates: Mapping[str, str], data: InteractionData | None, *, field: str
) -> dict[str, str]:
    """Each value of ``templates`` filled (``field`` prefixes the name in errors)."""
    return {
        name: fill_template(value, data, field=f"{field}.{name}")
        for name, value in templates.items()
    }
