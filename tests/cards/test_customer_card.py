"""What the agent sees and can do on the Customer Card, read from the card JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from cards import CARD_BYTE_BUDGET, MAX_CARD_BYTES, build_customer_card, card_size_bytes
from cards.customer_card import draw_customer_card
from cards.view import HistoryView, Notice
from tests.cards import samples
from tests.cards.cardcheck import actions, card_bytes, contract_errors, inputs, texts, walk
from tests.cards.samples import AGENT, INTERACTION


def _verbs(card: dict[str, Any]) -> list[str]:
    return [a["data"]["verb"] for a in actions(card) if isinstance(a.get("data"), dict)]


def _record_actions(card: dict[str, Any], record_id: str) -> list[str]:
    """Titles of the buttons in the block that shows ``record_id``."""
    for node in walk(card):
        if node.get("type") != "Container":
            continue
        found = [
            a
            for a in actions(node)
            if a.get("data", {}).get("recordId") == record_id or record_id in a.get("url", "")
        ]
        if found and not any(n.get("type") == "Container" for n in walk(node["items"])):
            return [a["title"] for a in actions(node)]
    return []


def test_header_shows_customer_channel_skill_and_state() -> None:
    card = build_customer_card(samples.one_match())
    assert card["body"][0]["text"] == "Erika Mustermann"
    assert card["body"][1]["text"] == "Voice call · Billing Support · Active · CRM: Demo CRM"
    assert card["msteams"] == {"width": "full"} and card["version"] == "1.5"


def test_unknown_state_is_shown_as_given() -> None:
    card = build_customer_card(samples.card_view(state="on_hold", skill=""))
    assert card["body"][1]["text"] == "Voice call · on_hold · CRM: Demo CRM"


def test_one_match_pins_the_record_in_current_with_open_edit_unpin() -> None:
    card = build_customer_card(samples.one_match())
    shown = texts(card)
    assert "One matching CRM record was found and pinned." in shown
    assert shown.index("Current Interaction") < shown.index("Erika Mustermann", 3)
    assert shown.index("Erika Mustermann", 3) < shown.index("Related Interactions")
    assert _record_actions(card, "00300001") == ["Open in CRM", "Edit", "Unpin"]
    assert {"Phone", "+49 30 1234567", "Account", "Muster GmbH"} <= set(shown)


def test_related_records_offer_pin_and_open() -> None:
    card = build_customer_card(samples.one_match())
    assert _record_actions(card, "50000001") == ["Pin", "Open in CRM"]
    shown = texts(card)
    assert shown.index("Related Interactions") < shown.index("Router keeps rebooting (1)")


def test_several_matches_are_listed_to_pin_and_nothing_is_pinned() -> None:
    card = build_customer_card(samples.several_matches())
    shown = texts(card)
    assert "Several CRM records match. Pin the right one below." in shown
    assert "No record is pinned to this interaction yet." in shown
    pins = [a["data"]["recordId"] for a in actions(card) if a.get("verb") == "pin"]
    assert pins == ["00300001", "00300002", "00300003"]
    assert _record_actions(card, "00300003") == ["Pin"]  # no url: no Open in CRM


def test_no_match_says_so_and_offers_search_and_create_first() -> None:
    card = build_customer_card(samples.no_matches())
    shown = texts(card)
    assert "No matching CRM record found. Search for one or create a new record." in shown
    assert shown.index("Search the CRM") < shown.index("Current Interaction")
    assert shown.index("New record of type") < shown.index("Current Interaction")
    assert [i["id"] for i in inputs(card)] == ["query", "createType"]
    create_type = inputs(card)[1]
    assert [c["value"] for c in create_type["choices"]] == ["case", "task", "lead"]
    assert create_type["value"] == "case"
    search = next(a for a in actions(card) if a.get("verb") == "search")
    assert search["data"] == {"verb": "search", "interactionId": INTERACTION}
    create = next(a for a in actions(card) if a["data"].get("verb") == "create_form")
    assert create["type"] == "Action.Submit"
    assert create["data"] == {
        "msteams": {"type": "task/fetch"},
        "verb": "create_form",
        "interactionId": INTERACTION,
    }


def test_search_query_is_kept_in_the_input() -> None:
    card = build_customer_card(samples.with_notices())
    assert inputs(card)[0]["value"] == "Muster"


def test_no_create_choice_without_create_types() -> None:
    card = build_customer_card(samples.card_view(create_types=[]))
    assert [i["id"] for i in inputs(card)] == ["query"]
    assert "create_form" not in _verbs(card)


def test_every_action_keeps_the_data_contract() -> None:
    for view in (
        samples.one_match(),
        samples.several_matches(),
        samples.no_matches(),
        samples.with_notices(),
        samples.long_records(),
    ):
        card = build_customer_card(view)
        assert contract_errors(card, INTERACTION) == []
        assert {"refresh", "search", "create_form"} <= set(_verbs(card))


def test_edit_opens_a_dialog_for_the_record() -> None:
    card = build_customer_card(samples.one_match())
    edit = next(a for a in actions(card) if a.get("title") == "Edit")
    assert edit == {
        "type": "Action.Submit",
        "title": "Edit",
        "data": {
            "msteams": {"type": "task/fetch"},
            "verb": "edit_form",
            "interactionId": INTERACTION,
            "recordType": "contact",
            "recordId": "00300001",
        },
    }


def test_refresh_is_limited_to_the_assigned_agent() -> None:
    card = build_customer_card(samples.one_match())
    assert card["refresh"] == {
        "action": {
            "type": "Action.Execute",
            "verb": "refresh",
            "data": {"verb": "refresh", "interactionId": INTERACTION},
        },
        "userIds": [AGENT],
    }
    assert card["actions"][0]["verb"] == "refresh"  # and a button for everyone else


def test_refresh_user_ids_are_capped_at_60_and_omitted_when_empty() -> None:
    many = [f"29:user-{n}" for n in range(75)]
    card = build_customer_card(samples.card_view(refresh_user_ids=many))
    assert card["refresh"]["userIds"] == many[:60]
    assert "refresh" not in build_customer_card(samples.card_view(refresh_user_ids=[]))


def test_read_only_card_keeps_only_open_in_crm_and_says_why() -> None:
    card = build_customer_card(samples.read_only())
    # opening a related record in place is no change to the interaction, so it stays
    assert {a["type"] for a in actions(card)} == {"Action.OpenUrl", "Action.ToggleVisibility"}
    assert inputs(card) == [] and "refresh" not in card and "actions" not in card
    assert "This interaction was transferred to another agent. The card is read-only." in texts(
        card
    )


def test_read_only_reasons_have_their_own_notice() -> None:
    cases = {
        "not_assigned": "Only the agent assigned to this interaction can act on this card.",
        "closed": "This interaction is closed. The card is read-only.",
        "": "This card is read-only.",
    }
    for reason, message in cases.items():
        view = samples.card_view(read_only=True, read_only_reason=reason)
        assert message in texts(build_customer_card(view))


def test_notices_are_translated_and_tinted_by_level() -> None:
    card = build_customer_card(samples.with_notices("de-DE"))
    boxes = [n for n in walk(card) if n.get("type") == "Container" and "style" in n]
    notices = [(b["style"], b["items"][0]["text"]) for b in boxes if b["style"] != "emphasis"]
    assert notices == [
        ("accent", "Datensatz angelegt und angeheftet."),
        ("warning", "Das CRM ist ausgelastet. Bitte versuchen Sie es gleich noch einmal."),
        ("attention", "Diese Interaktion konnte nicht im CRM protokolliert werden."),
    ]


def test_notice_params_are_filled_in() -> None:
    view = samples.card_view(notices=[Notice(key="field_too_long", params={"max": "80"})])
    assert "At most 80 characters." in texts(build_customer_card(view))


def test_more_action_when_the_bot_holds_more_related_records() -> None:
    card = build_customer_card(samples.with_notices())
    assert "11 more not shown." in texts(card)
    more = next(a for a in actions(card) if a.get("verb") == "more")
    assert more["data"] == {"verb": "more", "interactionId": INTERACTION, "shown": 1}


def test_history_shows_channel_time_agent_and_outcome() -> None:
    card = build_customer_card(samples.one_match())
    shown = texts(card)
    assert "Earlier interactions" in shown
    stamp = "2024-05-01T09:30:00Z"
    when = f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"
    # one line each
    assert f"Voice call · {when} · Max Agent · Wrap-up completed · Billing question" in shown
    assert card["lang"] == "en"


def test_history_time_is_sent_in_utc_and_may_be_missing() -> None:
    naive = HistoryView(
        interaction_id="a", channel="digital", started_at=datetime(2024, 1, 2, 3, 4)
    )
    unknown = HistoryView(interaction_id="b", channel="voice")
    card = build_customer_card(samples.card_view("de-DE", history=[naive, unknown]))
    shown = texts(card)
    stamp = "2024-01-02T03:04:00Z"
    assert f"Digitaler Kontakt · {{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}" in shown
    assert "Anruf · Zeit unbekannt" in shown


def test_german_card() -> None:
    card = build_customer_card(samples.one_match("de-DE"))
    shown = texts(card)
    for label in (
        "Aktuelle Interaktion",
        "Verwandte Interaktionen",
        "Im CRM öffnen",
        "Bearbeiten",
        "Lösen",
        "Anheften",
        "Suchen",
        "Anlegen…",
        "Aktualisieren",
    ):
        assert label in shown
    assert card["lang"] == "de" and card["fallbackText"] == "Customer Card: Erika Mustermann"


def test_two_hundred_long_records_stay_under_28_kb_with_a_more_action() -> None:
    view = samples.long_records(200)
    assert len(view.model_dump_json()) > 10 * MAX_CARD_BYTES  # far too big to send as it is
    card = build_customer_card(view)
    assert card_size_bytes(card) <= CARD_BYTE_BUDGET
    assert card_bytes(card) < MAX_CARD_BYTES
    pinned = [a["data"]["recordId"] for a in actions(card) if a.get("verb") == "pin"]
    assert 3 <= len(pinned) < 200
    assert pinned == [r.id for r in view.related[: len(pinned)]]  # the first ones, in order
    more = next(a for a in actions(card) if a.get("verb") == "more")
    assert more["data"]["shown"] == len(pinned)
    assert f"{200 - len(pinned)} more not shown." in texts(card)
    assert {"search", "create_form", "refresh"} <= set(_verbs(card))  # still usable


def test_the_most_records_that_fit_are_shown() -> None:
    view = samples.long_records(200)
    card = build_customer_card(view)
    shown = sum(1 for a in actions(card) if a.get("verb") == "pin")
    # One more record (still with the "more" action, as 200 don't fit) would not have fitted.
    one_more = build_customer_card(view.model_copy(update={"related": view.related[: shown + 1]}))
    assert sum(1 for a in actions(one_more) if a.get("verb") == "pin") == shown


@pytest.mark.parametrize("count", [1, 200])
@pytest.mark.parametrize("universal", [True, False])
def test_a_drawn_card_comes_with_the_text_its_size_was_measured_by(
    count: int, universal: bool
) -> None:
    view = samples.long_records(count)
    card, text = draw_customer_card(view, universal_actions=universal)
    assert card == build_customer_card(view, universal_actions=universal)
    assert text == json.dumps(card) and card_size_bytes(card) == len(text.encode())
    assert len(text) <= CARD_BYTE_BUDGET


def test_many_pinned_records_are_cut_too() -> None:
    view = samples.long_records(120)
    pinned = [r.model_copy(update={"origin": "pinned"}) for r in view.related]
    card = build_customer_card(
        view.model_copy(update={"current": pinned, "related": [], "related_total": 0})
    )
    assert card_size_bytes(card) <= CARD_BYTE_BUDGET
    assert "more" in _verbs(card)


def test_long_values_are_shortened_on_the_card() -> None:
    card = build_customer_card(samples.long_records(1))
    values = [t for t in texts(card) if t.startswith("Lorem")]
    assert values and all(len(v) <= 200 and v.endswith("…") for v in values)


def test_read_only_overflow_has_no_more_action() -> None:
    view = samples.long_records(200).model_copy(update={"read_only": True})
    card = build_customer_card(view)
    assert "more" not in _verbs(card)
    assert any(t.endswith("more not shown.") for t in texts(card))


def test_a_card_drawn_again_after_a_change_shows_the_change() -> None:
    """Blocks are reused between cards: every detail a block shows must make it new."""
    first = samples.one_match()
    before = build_customer_card(first)
    assert build_customer_card(samples.one_match()) == before  # drawn again: the same

    changed = samples.one_match()
    changed.current[0].fields[1].value = "erika.neu@example.com"  # an edited field
    changed.related[0].title = "Router replaced"
    changed.history[0].state = "transferred"
    changed.search_query = "Muster"
    changed.create_types = changed.create_types[:1]
    card = build_customer_card(changed)
    shown = texts(card)
    assert "erika.neu@example.com" in json.dumps(card)
    assert "Router replaced" in shown
    assert any("Transferred" in text for text in shown)
    assert [i.get("value") for i in inputs(card) if i["id"] == "query"] == ["Muster"]
    assert len(next(i for i in inputs(card) if i["id"] == "createType")["choices"]) == 1
    # the same records on another interaction's card carry that interaction's id
    other = build_customer_card(
        samples.one_match().model_copy(update={"interaction_id": "int-other"})
    )
    assert {
        a["data"]["interactionId"]
        for a in actions(other)
        if isinstance(a.get("data"), dict) and "interactionId" in a["data"]
    } == {"int-other"}
    # and read-only drops the buttons again
    read_only = build_customer_card(samples.one_match().model_copy(update={"read_only": True}))
    assert "unpin" not in _verbs(read_only) and "pin" not in _verbs(read_only)


def _row_texts(card: dict[str, Any], label: str) -> list[str]:
    """The value texts of every field row labelled ``label``."""
    return [
        node["columns"][1]["items"][0]["text"]
        for node in walk(card["body"])
        if node.get("type") == "ColumnSet"
        and len(node.get("columns") or []) == 2
        and node["columns"][0]["items"][0].get("text") == label
    ]


def test_numbers_dates_and_yes_no_follow_the_card_locale() -> None:
    english = build_customer_card(samples.demo_call("en-US"))
    german = build_customer_card(samples.demo_call("de-DE"))
    assert _row_texts(english, "Monthly fee") == ["1,490.5"]
    assert _row_texts(german, "Monthly fee") == ["1.490,5"]
    assert _row_texts(english, "Start date") == ["Jan 31, 2025"]
    assert _row_texts(german, "Start date") == ["31.01.2025"]
    assert (_row_texts(english, "Auto renew"), _row_texts(german, "Auto renew")) == (
        ["Yes"],
        ["Ja"],
    )


def test_a_reference_shows_the_name_linked_to_the_record() -> None:
    card = build_customer_card(samples.demo_call())
    assert _row_texts(card, "Account")[0] == (
        "[Schmidt Logistik GmbH](https://crm.example.com/account/acc-63d559913aee)"
    )


def test_related_records_are_one_row_each_that_opens_in_place() -> None:
    card = build_customer_card(samples.demo_call())
    rows = [n for n in walk(card["body"]) if n.get("selectAction")]
    assert len(rows) == len(samples.demo_related())
    for row in rows:
        toggle = row["selectAction"]
        assert toggle["type"] == "Action.ToggleVisibility"
        details_id = toggle["targetElements"][0]["elementId"]
        details = next(n for n in walk(card["body"]) if n.get("id") == details_id)
        assert details["isVisible"] is False  # closed until the agent opens it
        assert [a["title"] for a in actions(details)] == ["Pin", "Open in CRM"]
    summaries = [t for t in texts(card) if t.startswith("Subscription")]
    assert summaries == ["Subscription · 1,490.5"]  # type and the first field


def test_field_labels_get_a_column_wide_enough_not_to_wrap() -> None:
    card = build_customer_card(samples.demo_call())
    widths = {
        node["columns"][0]["width"]
        for node in walk(card["body"])
        if node.get("type") == "ColumnSet"
        and node["columns"][0]["items"][0].get("text") == "Mobile"
    }
    # "Preferred Language" is the pinned contact's longest label: 18 characters at ~7 px
    assert widths == {"134px"}
