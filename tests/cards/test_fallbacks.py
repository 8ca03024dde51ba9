"""Hosts without Universal Actions or dialogs: the Action.Submit fallbacks and the notices
the bot reads back from a card to tell such a host's user what happened."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cards import build_customer_card, build_form_card, build_notices_card, is_read_only_card
from cards.view import Notice
from tests.cards import samples
from tests.cards.cardcheck import assert_valid_card, buttons, fallback_errors, texts
from tests.cards.samples import CARDS, INTERACTION, LOCALES

# what a host without Universal Actions posts for the first match's Unpin
_UNPIN_SUBMIT = {
    "type": "Action.Submit",
    "title": "Unpin",
    "data": {
        "verb": "unpin",
        "interactionId": INTERACTION,
        "recordType": "contact",
        "recordId": "00300001",
    },
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_execute_button_falls_back_to_a_submit_with_the_same_data(
    name: str, locale: str
) -> None:
    assert fallback_errors(CARDS[name](locale)) == []


def test_the_fallback_posts_what_the_execute_sends() -> None:
    card = build_customer_card(samples.one_match())
    unpin = next(a for a in buttons(card) if a.get("verb") == "unpin")
    assert unpin["fallback"] == _UNPIN_SUBMIT
    # The automatic refresh is Universal Actions only; old hosts ignore it.
    assert "fallback" not in card["refresh"]["action"]


def test_create_and_edit_stay_dialog_submits_without_fallback() -> None:
    card = build_customer_card(samples.one_match())
    dialogs = [a for a in buttons(card) if a["type"] == "Action.Submit"]
    assert {a["data"]["verb"] for a in dialogs} == {"create_form", "edit_form"}
    assert all(a["data"]["msteams"] == {"type": "task/fetch"} for a in dialogs)
    assert all("fallback" not in a for a in dialogs)


def test_inline_form_buttons_fall_back_keeping_their_options() -> None:
    save, cancel = build_form_card(samples.form(mode="edit"), inline=True)["actions"]
    assert save["fallback"]["style"] == "positive"
    assert save["fallback"]["data"] == save["data"]
    assert cancel["fallback"]["associatedInputs"] == "none"


def test_fallback_check_catches_missing_and_different_fallbacks() -> None:
    card = build_customer_card(samples.one_match())
    missing = copy.deepcopy(card)
    del missing["actions"][0]["fallback"]
    different = copy.deepcopy(card)
    different["actions"][0]["fallback"]["data"]["verb"] = "pin"
    teams_only = copy.deepcopy(card)
    teams_only["actions"][0]["fallback"]["data"]["msteams"] = {"type": "task/fetch"}
    for broken in (missing, different, teams_only):
        assert fallback_errors(broken), broken["actions"][0]


def test_notices_are_read_back_as_a_card_of_their_own() -> None:
    view = samples.card_view(
        notices=[
            Notice(level="error", key="crm_unavailable"),
            Notice(level="info", key="search_no_results"),
        ]
    )
    notices = build_notices_card(build_customer_card(view))
    assert notices is not None
    assert_valid_card(notices)
    shown = texts(notices)
    assert "The search found no records." in shown
    assert len(notices["body"]) == 2 and "Erika Mustermann" not in shown
    assert not is_read_only_card(build_customer_card(view))


def test_a_card_without_notices_has_nothing_to_read_back() -> None:
    assert build_notices_card(build_customer_card(samples.one_match())) is None


def test_read_only_reason_is_read_back_once() -> None:
    view = samples.read_only().model_copy(
        update={
            "read_only_reason": "not_assigned",
            "notices": [Notice(level="warning", key="not_assigned")],
        }
    )
    card: dict[str, Any] = build_customer_card(view)
    assert is_read_only_card(card)
    notices = build_notices_card(card)
    assert notices is not None and len(notices["body"]) == 1
    assert texts(notices) == ["Only the agent assigned to this interaction can act on this card."]


# --- Submit-only cards for hosts that draw Action.Execute but never send it (Emulator) ---

from cards import without_universal_actions  # noqa: E402
from tests.cards.cardcheck import walk  # noqa: E402


@pytest.mark.parametrize("name", sorted(CARDS))
def test_submit_only_cards_have_no_execute_and_stay_valid(name: str) -> None:
    card = without_universal_actions(CARDS[name]("en-US"))
    assert not [n for n in walk(card) if n.get("type") == "Action.Execute"]
    assert "refresh" not in card
    assert_valid_card(card)


def test_submit_only_buttons_post_the_same_verb_and_data() -> None:
    original = build_customer_card(samples.one_match())
    card = without_universal_actions(original)
    unpin = next(
        n
        for n in walk(card)
        if n.get("type") == "Action.Submit" and n.get("data", {}).get("verb") == "unpin"
    )
    assert unpin == _UNPIN_SUBMIT
    assert "refresh" in original  # the input card is left as it was
