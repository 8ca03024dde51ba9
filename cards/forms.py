"""Create and edit forms, and the plain dicts Teams expects as dialog (task module) replies.

A form is shown in a dialog: ``task/fetch`` answers ``task_continue(build_form_card(form))``
and the dialog's submit button sends ``task/submit`` with ``verb`` ``create`` or ``edit``.
Clients that cannot open dialogs (the Bot Framework Emulator posts the Create/Edit
``Action.Submit`` as a plain message) get the same form inline, in place of the card,
submitted with the ``save`` verb (``Action.Execute`` with an ``Action.Submit`` fallback).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from microsoft_teams.cards.core import (
    Action,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    DateInput,
    InputTextStyle,
    NumberInput,
    SubmitAction,
    TextBlock,
    TextInput,
    ToggleInput,
)

from cards.card_json import ADAPTIVE_CARD_CONTENT_TYPE, dump_card
from cards.elements import execute, notice_block
from cards.i18n import pick_locale, translate
from cards.view import FormField, FormView

__all__ = ["build_form_card", "task_continue", "task_message"]

_TEXT_STYLES: dict[str, InputTextStyle] = {"phone": "Tel", "email": "Email", "url": "Url"}
_TRUE_WORDS = {"true", "1", "yes", "ja", "on"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def build_form_card(form: FormView, *, inline: bool = False) -> dict[str, Any]:
    """The create/edit form for ``form`` as an Adaptive Card dict.

    Each field becomes the input that fits its type, marked required where it is, with its
    error (if any) right below it. ``inline=True`` gives the on-card variant: an
    ``Action.Execute`` ``save`` (with ``mode``) and a Cancel that refreshes the card.
    """
    locale = pick_locale(form.locale)
    mode_key = "form_title_create" if form.mode == "create" else "form_title_edit"
    body: list[CardElement] = [
        TextBlock(
            text=translate(locale, mode_key, type=form.type_label),
            size="Large",
            weight="Bolder",
            wrap=True,
        )
    ]
    if form.error:
        body.append(notice_block(form.error, "error"))
    for field in form.fields:
        body += _field_elements(field, locale)
    card = AdaptiveCard(version="1.5", body=body, actions=_form_actions(form, locale, inline))
    return dump_card(card)


def _form_actions(form: FormView, locale: str, inline: bool) -> list[Action]:
    data: dict[str, Any] = {"interactionId": form.interaction_id, "recordType": form.record_type}
    if form.record_id:
        data["recordId"] = form.record_id
    title = translate(locale, f"form_submit_{form.mode}")
    if not inline:
        return [SubmitAction(title=title, style="positive", data={"verb": form.mode, **data})]
    cancel = execute(
        translate(locale, "form_cancel"),
        "refresh",
        {"interactionId": form.interaction_id},
        associated_inputs="none",
    )
    return [execute(title, "save", {"mode": form.mode, **data}, style="positive"), cancel]


def _field_elements(field: FormField, locale: str) -> list[CardElement]:
    build = _INPUT_BUILDERS.get(field.type, _text_input)
    common: dict[str, Any] = {"id": field.name, "is_required": field.required or None}
    if field.required:
        common["error_message"] = translate(locale, "field_required")
    elements: list[CardElement] = [build(field, locale, common)]
    if field.error:
        elements.append(
            TextBlock(text=field.error, color="Attention", size="Small", wrap=True, spacing="None")
        )
    return elements


def _text_input(field: FormField, locale: str, common: dict[str, Any]) -> CardElement:
    multiline = field.type == "long_text"
    return TextInput(
        label=field.label,
        value=field.value or None,
        max_length=field.max_length,
        is_multiline=multiline or None,
        style=_TEXT_STYLES.get(field.type),
        placeholder="YYYY-MM-DD HH:MM" if field.type == "datetime" else None,
        **common,
    )


def _number_input(field: FormField, locale: str, common: dict[str, Any]) -> CardElement:
    try:
        value: float | None = float(field.value) if field.value.strip() else None
    except ValueError:
        value = None  # Input.Number cannot hold text; the field's error explains it
    return NumberInput(label=field.label, value=value, **common)


def _toggle_input(field: FormField, locale: str, common: dict[str, Any]) -> CardElement:
    checked = field.value.strip().lower() in _TRUE_WORDS
    # A toggle always has a value, so "required" would mean nothing to the agent.
    common = {**common, "is_required": None, "error_message": None}
    return ToggleInput(
        title=field.label,
        value="true" if checked else "false",
        value_on="true",
        value_off="false",
        wrap=True,
        **common,
    )


def _date_input(field: FormField, locale: str, common: dict[str, Any]) -> CardElement:
    match = _ISO_DATE.match(field.value)
    return DateInput(label=field.label, value=match.group(0) if match else None, **common)


def _choice_input(field: FormField, locale: str, common: dict[str, Any]) -> CardElement:
    options = list(field.options)
    if field.value and field.value not in options:
        options.append(field.value)  # keep a value the CRM has even if it left the list
    return ChoiceSetInput(
        label=field.label,
        style="compact",
        value=field.value or None,
        placeholder=translate(locale, "form_choose"),
        choices=[Choice(title=option, value=option) for option in options],
        **common,
    )


_INPUT_BUILDERS: dict[str, Callable[[FormField, str, dict[str, Any]], CardElement]] = {
    "long_text": _text_input,
    "number": _number_input,
    "boolean": _toggle_input,
    "date": _date_input,
    "picklist": _choice_input,
}


def task_continue(card: dict[str, Any], title: str) -> dict[str, Any]:
    """A ``task/fetch`` or ``task/submit`` reply that shows ``card`` in the dialog."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": title,
                "card": {"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "content": card},
            },
        }
    }


def task_message(text: str) -> dict[str, Any]:
    """A ``task/submit`` reply that closes the dialog and shows ``text`` briefly."""
    return {"task": {"type": "message", "value": text}}
