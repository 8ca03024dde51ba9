"""Turning typed card models into the plain dicts that go on the wire, and measuring them."""

from __future__ import annotations

import json
from typing import Any

from microsoft_teams.cards.core import AdaptiveCard, CardElement

from crm.errors import AppError

__all__ = [
    "ADAPTIVE_CARD_CONTENT_TYPE",
    "THUMBNAIL_CARD_CONTENT_TYPE",
    "MAX_CARD_BYTES",
    "CARD_BYTE_BUDGET",
    "card_size_bytes",
    "card_text",
    "dump_card",
    "dump_element",
    "without_universal_actions",
]

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
THUMBNAIL_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.thumbnail"

# Teams refuses messages over about 28 KB (the connector answers 413).
MAX_CARD_BYTES = 28 * 1024
# The card travels inside an activity (ids, conversation, attachment wrapper), so the
# builders aim 2 KB lower to leave room for that envelope.
CARD_BYTE_BUDGET = 26 * 1024


def dump_card(card: AdaptiveCard, body: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The wire dict of a card model: aliased names, no ``None`` values; with ``body``, the
    card's body is those element dicts (``dump_element``; the model's body is left empty).

    A model object handed to the connector as-is loses ``type`` and ``version``; dumping
    here, once, is what keeps them, and the check makes a regression loud.
    """
    data = dump_element(card)
    if data.get("type") != "AdaptiveCard" or not data.get("version"):
        raise AppError("card dump lost its type or version")
    if body is not None:
        data["body"] = body  # in the place the model's (empty) body had
    return data


def dump_element(element: CardElement) -> dict[str, Any]:
    """The wire dict of a card element, as it is inside a dumped card: the card's elements
    are ``SerializeAsAny``, so each dumps by its own class, nested or alone."""
    return element.model_dump(by_alias=True, exclude_none=True)


def card_size_bytes(card: dict[str, Any]) -> int:
    """Size of a card as JSON in UTF-8 bytes, measured the largest usual way.

    Python's default ``json.dumps`` (``", "`` separators, non-ASCII as ``\\uXXXX``) gives
    the biggest of the encodings an HTTP stack is likely to use, so a card that fits by
    this measure fits however the bot serialises it.
    """
    return len(card_text(card))


def card_text(card: dict[str, Any]) -> str:
    """The card in that largest encoding (all ASCII: its length is its size in bytes). The
    same card always gives the same text, so it also tells two cards apart (a digest of
    it is what the delivery remembers of a card it sent)."""
    return json.dumps(card)


def without_universal_actions(card: dict[str, Any]) -> dict[str, Any]:
    """The card for a host without Universal Actions (the Bot Framework Emulator): every
    ``Action.Execute`` becomes its ``Action.Submit`` fallback and ``refresh`` goes.

    Such hosts may draw an Execute button and send nothing when it is clicked rather than
    use the fallback, so for them the bot sends Submit buttons only; a Submit posts a
    message whose ``value`` holds the same ``verb`` and data.
    """

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if node.get("type") == "Action.Execute":
            fallback = node.get("fallback")
            if isinstance(fallback, dict) and fallback.get("type") == "Action.Submit":
                return convert(fallback)
            submit = {k: v for k, v in node.items() if k not in ("verb", "fallback")}
            submit["type"] = "Action.Submit"
            submit["data"] = {**node.get("data", {}), "verb": node.get("verb")}
            return convert(submit)
        return {key: convert(value) for key, value in node.items() if key != "refresh"}

    result: dict[str, Any] = convert(card)
    return result
