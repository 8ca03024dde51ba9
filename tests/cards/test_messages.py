"""Help, whoami and notice cards, and message-extension results."""

from __future__ import annotations

from cards import (
    ADAPTIVE_CARD_CONTENT_TYPE,
    build_compose_extension_result,
    build_help_card,
    build_notice_card,
    build_search_attachment,
    build_whoami_card,
)
from tests.cards import samples
from tests.cards.cardcheck import actions, assert_valid_card, texts


def test_help_lists_commands_and_simulate_only_in_dev_mode() -> None:
    dev = texts(build_help_card("en-US", dev_mode=True))
    prod = texts(build_help_card("en-US", dev_mode=False))
    for command in ("help", "whoami", "search <text>"):
        assert command in dev and command in prod
    for command in ("simulate call <number>", "simulate chat <email>", "simulate end"):
        assert command in dev and command not in prod
    assert "Simulation commands work in development mode only." in dev


def test_help_in_german_keeps_the_command_words() -> None:
    shown = texts(build_help_card("de-CH", dev_mode=True))
    assert "Befehle der Customer Card" in shown
    assert "search <Suchtext>" in shown and "simulate end" in shown
    assert "Ihre simulierte Interaktion beenden." in shown


def test_whoami_shows_every_id_and_marks_unknown_ones() -> None:
    card = build_whoami_card("en-US", {**samples.IDENTITY, "upn": "max@contoso.com"})
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts == {
        "Teams user id": samples.AGENT,
        "Entra (AAD) object id": samples.IDENTITY["aad_object_id"],
        "Tenant id": samples.IDENTITY["tenant_id"],
        "Name": "Max Agent",
        "Email": "(not known)",
        "upn": "max@contoso.com",
    }


def test_notice_card_translates_and_tints() -> None:
    card = build_notice_card("de-DE", "field_too_long", {"max": "80"}, level="warning")
    assert_valid_card(card)
    assert card["body"][0]["style"] == "warning"
    assert card["body"][0]["items"][0]["text"] == "Höchstens 80 Zeichen."
    assert texts(build_notice_card(None, "not_installed"))[0] == (
        "The agent has not installed the Customer Card app in Teams yet."
    )


def test_search_attachment_has_card_and_preview() -> None:
    attachment = build_search_attachment(samples.contact(1, origin="search"), "en-US")
    assert attachment["contentType"] == ADAPTIVE_CARD_CONTENT_TYPE
    assert attachment["preview"] == {
        "contentType": "application/vnd.microsoft.card.thumbnail",
        "content": {
            "title": "Erika Mustermann",
            "text": "Contact · +49 30 1234567 · erika1@example.com",
        },
    }
    card = attachment["content"]
    assert_valid_card(card)
    assert [a["type"] for a in actions(card)] == ["Action.OpenUrl"]
    assert {"Erika Mustermann", "Contact", "Phone", "Muster GmbH"} <= set(texts(card))


def test_search_attachment_without_url_has_no_button() -> None:
    attachment = build_search_attachment(samples.contact(3, url=False), "de-DE")
    assert actions(attachment["content"]) == []


def test_compose_extension_result_lists_every_record() -> None:
    records = [samples.contact(1), samples.case(2), samples.contact(3)]
    result = build_compose_extension_result(records, "en-US")
    body = result["composeExtension"]
    assert body["type"] == "result" and body["attachmentLayout"] == "list"
    assert [a["preview"]["content"]["title"] for a in body["attachments"]] == [
        r.title for r in records
    ]
    assert build_compose_extension_result([], "en-US")["composeExtension"]["attachments"] == []
