"""The create/edit form and the dialog replies that carry it."""

from __future__ import annotations

from typing import Any

from cards import ADAPTIVE_CARD_CONTENT_TYPE, build_form_card, task_continue, task_message
from cards.view import FormField
from tests.cards import samples
from tests.cards.cardcheck import actions, assert_valid_card, contract_errors, inputs, texts
from tests.cards.samples import INTERACTION


def _by_id(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in inputs(card)}


def test_each_field_type_gets_its_input() -> None:
    fields = _by_id(build_form_card(samples.form()))
    assert {name: f["type"] for name, f in fields.items()} == {
        "subject": "Input.Text",
        "description": "Input.Text",
        "phone": "Input.Text",
        "email": "Input.Text",
        "amount": "Input.Number",
        "escalated": "Input.Toggle",
        "due": "Input.Date",
        "priority": "Input.ChoiceSet",
    }
    assert fields["subject"]["maxLength"] == 80 and "isMultiline" not in fields["subject"]
    assert fields["description"]["isMultiline"] is True
    assert fields["phone"]["style"] == "Tel" and fields["email"]["style"] == "Email"
    assert fields["amount"]["value"] == 12.5
    assert fields["escalated"] == {
        "type": "Input.Toggle",
        "id": "escalated",
        "title": "Escalated",
        "value": "true",
        "valueOn": "true",
        "valueOff": "false",
        "wrap": True,
    }
    assert fields["due"]["value"] == "2024-05-31"
    assert [c["value"] for c in fields["priority"]["choices"]] == ["Low", "Medium", "High"]
    assert fields["priority"]["value"] == "High"


def test_required_fields_are_marked_with_a_message() -> None:
    fields = _by_id(build_form_card(samples.form("de-DE")))
    assert fields["subject"]["isRequired"] is True
    assert fields["subject"]["errorMessage"] == "Dieses Feld ist erforderlich."
    assert "isRequired" not in fields["description"]


def test_errors_show_under_their_field_and_on_top() -> None:
    card = build_form_card(samples.form(mode="edit", errors=True))
    body = card["body"]
    assert body[0]["text"] == "Edit Case"
    assert body[1]["style"] == "attention"
    assert body[1]["items"][0]["text"] == "The CRM rejected the change."
    subject = next(i for i, e in enumerate(body) if e.get("id") == "subject")
    assert body[subject + 1]["text"] == "This field is required."
    assert body[subject + 1]["color"] == "Attention"
    description = next(i for i, e in enumerate(body) if e.get("id") == "description")
    assert body[description + 1]["text"] == "At most 32000 characters."
    assert body[description + 2]["id"] == "phone"  # no error text where there is no error


def test_create_submit_data() -> None:
    card = build_form_card(samples.form())
    assert card["actions"] == [
        {
            "type": "Action.Submit",
            "title": "Create",
            "style": "positive",
            "data": {"verb": "create", "interactionId": INTERACTION, "recordType": "case"},
        }
    ]
    assert contract_errors(card, INTERACTION) == []


def test_edit_submit_data_names_the_record() -> None:
    card = build_form_card(samples.form("de-DE", mode="edit"))
    assert card["body"][0]["text"] == "Case bearbeiten"
    assert card["actions"][0]["title"] == "Speichern"
    assert card["actions"][0]["data"] == {
        "verb": "edit",
        "interactionId": INTERACTION,
        "recordType": "case",
        "recordId": "50000001",
    }


def test_inline_form_saves_with_execute_and_can_cancel() -> None:
    card = build_form_card(samples.form(mode="edit"), inline=True)
    save, cancel = card["actions"]
    assert save["type"] == "Action.Execute" and save["verb"] == "save"
    assert save["data"] == {
        "verb": "save",
        "mode": "edit",
        "interactionId": INTERACTION,
        "recordType": "case",
        "recordId": "50000001",
    }
    assert cancel["verb"] == "refresh" and cancel["associatedInputs"] == "none"
    assert contract_errors(card, INTERACTION) == []


def test_odd_values_do_not_break_the_form() -> None:
    form = samples.form().model_copy(
        update={
            "fields": [
                FormField(name="n", label="N", type="number", value="twelve"),
                FormField(name="d", label="D", type="date", value="2024-05-31T10:00:00Z"),
                FormField(name="p", label="P", type="picklist", options=["A"], value="Retired"),
                FormField(name="x", label="X", type="datetime", value=""),
                FormField(name="r", label="R", type="reference", value="001xyz"),
            ]
        }
    )
    card = build_form_card(form)
    assert_valid_card(card)
    fields = _by_id(card)
    assert "value" not in fields["n"]
    assert fields["d"]["value"] == "2024-05-31"
    assert [c["value"] for c in fields["p"]["choices"]] == ["A", "Retired"]
    assert fields["x"]["type"] == "Input.Text" and fields["r"]["value"] == "001xyz"
    assert "Choose…" in texts(card)


def test_task_continue_wraps_the_card_for_a_dialog() -> None:
    card = build_form_card(samples.form())
    assert task_continue(card, "New case") == {
        "task": {
            "type": "continue",
            "value": {
                "title": "New case",
                "card": {"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "content": card},
            },
        }
    }
    assert ADAPTIVE_CARD_CONTENT_TYPE == "application/vnd.microsoft.card.adaptive"


def test_task_message() -> None:
    assert task_message("Record saved.") == {"task": {"type": "message", "value": "Record saved."}}


def test_form_has_no_actions_beyond_its_submit() -> None:
    assert [a["type"] for a in actions(build_form_card(samples.form()))] == ["Action.Submit"]
