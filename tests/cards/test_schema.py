"""Every card the builders make is valid Adaptive Cards 1.5 JSON and fits in a Teams message."""

from __future__ import annotations

from typing import Any

import pytest

from cards import ADAPTIVE_CARD_CONTENT_TYPE, MAX_CARD_BYTES, build_customer_card
from tests.cards import samples
from tests.cards.cardcheck import assert_valid_card, card_bytes, schema_errors, walk
from tests.cards.samples import CARDS, LOCALES, PAYLOADS


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_is_schema_valid_and_small(name: str, locale: str) -> None:
    assert_valid_card(CARDS[name](locale))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_card_inside_a_payload_is_valid(name: str, locale: str) -> None:
    payload = PAYLOADS[name](locale)
    adaptive = ADAPTIVE_CARD_CONTENT_TYPE
    cards = [n["content"] for n in walk(payload) if n.get("contentType") == adaptive]
    assert cards
    for card in cards:
        assert_valid_card(card)
    assert card_bytes(payload) < MAX_CARD_BYTES


def test_long_view_card_is_schema_valid() -> None:
    assert_valid_card(build_customer_card(samples.long_records()))


def test_schema_check_catches_broken_cards() -> None:
    """The validator really rejects what Teams would reject, so passing means something."""
    card: dict[str, Any] = build_customer_card(samples.one_match())
    broken = [
        {**card, "body": [{"type": "TextBlock"}]},  # text is required
        {**card, "body": [{"type": "Input.Toggle", "id": "x"}]},  # title is required
        {**card, "actions": [{"type": "Action.OpenUrl", "title": "x"}]},  # url is required
        {**card, "body": [{"type": "TextBlock", "text": "x", "spacing": "Huge"}]},
        {**card, "msteams": {"width": "half"}},
        {**card, "frobnicate": True},
    ]
    for candidate in broken:
        assert schema_errors(candidate), candidate
