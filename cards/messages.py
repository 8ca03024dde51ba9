"""Small cards the bot sends in answer to text commands and for notices."""

from __future__ import annotations

from typing import Any, Literal

from microsoft_teams.cards.core import AdaptiveCard, CardElement, Fact, FactSet, TextBlock

from cards.card_json import dump_card
from cards.elements import notice_block, subtle, text
from cards.i18n import pick_locale, translate

__all__ = ["WHOAMI_FIELDS", "build_help_card", "build_notice_card", "build_whoami_card"]

# The identity keys ``build_whoami_card`` knows, in the order shown, with their labels.
WHOAMI_FIELDS: dict[str, str] = {
    "teams_user_id": "whoami_teams_user_id",
    "aad_object_id": "whoami_aad_object_id",
    "tenant_id": "whoami_tenant_id",
    "name": "whoami_name",
    "email": "whoami_email",
}

# (command as typed, message key of its description); commands are never translated.
_COMMANDS = [("help", "help_help"), ("whoami", "help_whoami"), ("help_search_usage", "help_search")]
_DEV_COMMANDS = [
    ("help_simulate_call_usage", "help_simulate_call"),
    ("help_simulate_chat_usage", "help_simulate_chat"),
    ("simulate end", "help_simulate_end"),
]


def build_help_card(locale: str | None, dev_mode: bool) -> dict[str, Any]:
    """The ``help`` answer: one line per command; the simulate commands only in dev mode."""
    lang = pick_locale(locale)
    commands = _COMMANDS + (_DEV_COMMANDS if dev_mode else [])
    rows = [Fact(title=_usage(lang, usage), value=translate(lang, key)) for usage, key in commands]
    body: list[CardElement] = [
        _title(translate(lang, "help_title")),
        text(translate(lang, "help_intro")),
        FactSet(facts=rows, spacing="Medium"),
    ]
    if dev_mode:
        body.append(subtle(translate(lang, "help_dev_note"), spacing="Medium"))
    return dump_card(AdaptiveCard(version="1.5", body=body))


def _usage(lang: str, usage: str) -> str:
    # Usage lines with a placeholder live in the catalogue ("search <text>"); bare commands don't.
    return translate(lang, usage) if usage.startswith("help_") else usage


def build_whoami_card(locale: str | None, identity: dict[str, str]) -> dict[str, Any]:
    """The ``whoami`` answer: the ids to put in an interaction event's ``agent`` field.

    ``identity`` uses the keys of ``WHOAMI_FIELDS``; any other key is shown as it is.
    """
    lang = pick_locale(locale)
    unknown = translate(lang, "whoami_unknown")
    rows = [
        Fact(title=translate(lang, label), value=identity.get(key) or unknown)
        for key, label in WHOAMI_FIELDS.items()
    ]
    rows += [
        Fact(title=key, value=value or unknown)
        for key, value in identity.items()
        if key not in WHOAMI_FIELDS
    ]
    body: list[CardElement] = [
        _title(translate(lang, "whoami_title")),
        text(translate(lang, "whoami_hint")),
        FactSet(facts=rows, spacing="Medium"),
    ]
    return dump_card(AdaptiveCard(version="1.5", body=body))


def build_notice_card(
    locale: str | None,
    key: str,
    params: dict[str, str] | None = None,
    level: Literal["info", "warning", "error"] = "info",
) -> dict[str, Any]:
    """A one-message card: ``key`` from the catalogue, tinted by ``level``."""
    lang = pick_locale(locale)
    message = translate(lang, key, **(params or {}))
    return dump_card(AdaptiveCard(version="1.5", body=[notice_block(message, level)]))


def _title(value: str) -> TextBlock:
    return TextBlock(text=value, size="Medium", weight="Bolder", wrap=True)
