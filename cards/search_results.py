"""Message-extension search results: a card per CRM record, with a list preview."""

from __future__ import annotations

from typing import Any

from microsoft_teams.cards.core import Action, AdaptiveCard, CardElement, TextBlock

from cards.card_json import ADAPTIVE_CARD_CONTENT_TYPE, THUMBNAIL_CARD_CONTENT_TYPE, dump_card
from cards.elements import facts, open_url, subtle, truncate
from cards.i18n import pick_locale, translate
from cards.view import RecordView

__all__ = ["build_compose_extension_result", "build_search_attachment"]

_FIELD_CHARS = 300
_PREVIEW_FIELDS = 2


def build_search_attachment(record: RecordView, locale: str | None) -> dict[str, Any]:
    """One result: the card the agent inserts, plus the thumbnail shown in the result list.

    The card carries only Open in CRM: it is sent into a conversation where the bot's
    interaction actions would mean nothing.
    """
    lang = pick_locale(locale)
    body: list[CardElement] = [
        TextBlock(text=truncate(record.title, 160), size="Medium", weight="Bolder", wrap=True),
        subtle(record.type_label, spacing="None"),
    ]
    if record.fields:
        body.append(facts(record.fields, empty=translate(lang, "empty_value"), limit=_FIELD_CHARS))
    actions: list[Action] = []
    if record.url:
        actions.append(open_url(translate(lang, "action_open"), record.url))
    card = AdaptiveCard(version="1.5", body=body, actions=actions or None)
    return {
        "contentType": ADAPTIVE_CARD_CONTENT_TYPE,
        "content": dump_card(card),
        "preview": {
            "contentType": THUMBNAIL_CARD_CONTENT_TYPE,
            "content": {"title": record.title, "text": _preview_text(record)},
        },
    }


def _preview_text(record: RecordView) -> str:
    values = [f.value for f in record.fields[:_PREVIEW_FIELDS] if f.value]
    return truncate(" · ".join([record.type_label, *values]), 200)


def build_compose_extension_result(records: list[RecordView], locale: str | None) -> dict[str, Any]:
    """The ``composeExtension/query`` invoke body listing ``records`` (Teams shows its own
    "no results" text for an empty list)."""
    return {
        "composeExtension": {
            "type": "result",
            "attachmentLayout": "list",
            "attachments": [build_search_attachment(r, locale) for r in records],
        }
    }
