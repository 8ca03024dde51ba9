"""Which fields the card shows for a record, and how they reach the card (pure)."""

from __future__ import annotations

from bot.interactions.records import choose_card_fields, record_view
from crm.models import CrmRecord, FieldInfo, FieldType, RecordRef

META = {
    name: FieldInfo(name=name, label=label, type=kind)
    for name, label, kind in [
        ("first_name", "First Name", FieldType.TEXT),
        ("last_name", "Last Name", FieldType.TEXT),
        ("email", "Email", FieldType.EMAIL),
        ("phone", "Phone", FieldType.PHONE),
        ("mobile", "Mobile", FieldType.PHONE),
        ("title", "Title", FieldType.TEXT),
        ("city", "City", FieldType.TEXT),
        ("notes", "Notes", FieldType.LONG_TEXT),
        ("account_id", "Account", FieldType.REFERENCE),
        ("owner_id", "Owner", FieldType.REFERENCE),
        ("score", "Score", FieldType.NUMBER),
        ("since", "Customer since", FieldType.DATE),
        ("vip", "VIP", FieldType.BOOLEAN),
        ("language", "Language", FieldType.PICKLIST),
    ]
}


def _contact(**references: RecordRef) -> CrmRecord:
    return CrmRecord(
        type="contact",
        id="c1",
        title="Anna Schmidt",
        fields={
            "id": "c1",
            "first_name": "Anna",
            "last_name": "Schmidt",
            "email": "anna@example.com",
            "phone": "+49 30 1234567",
            "mobile": "0171 2345678",
            "title": "Leiterin",
            "city": "Berlin",
            "notes": "Prefers email",
            "account_id": "acc-1",
            "owner_id": "usr-9",
            "score": 4.5,
            "since": "2020-03-01",
            "vip": True,
            "language": "de",
        },
        references=references,
    )


ACCOUNT = RecordRef(type="account", id="acc-1", name="Schmidt GmbH", url="https://crm/acc-1")


def test_the_default_mapping_keeps_5_text_and_3_other_fields_worth_a_line() -> None:
    record = _contact(account_id=ACCOUNT)
    names = choose_card_fields(record.fields, meta=META, record=record)
    # no id, no repeats of the title, no owner (its name is unknown): 5 text, then 3 others
    assert names == ["email", "phone", "mobile", "title", "city", "account_id", "score", "since"]


def test_a_configured_mapping_is_shown_as_configured() -> None:
    record = _contact()
    configured = ["last_name", "owner_id", "vip"]
    assert choose_card_fields(record.fields, configured=configured, meta=META) == configured


def _shown(configured: list[str]) -> dict[str, tuple[str, str, str]]:
    record = _contact(account_id=ACCOUNT)
    view = record_view(record, origin="match", configured=configured, meta=META)
    return {f.name: (f.value, f.kind, f.url) for f in view.fields}


def test_references_become_names_with_links_and_other_kinds_plain_values() -> None:
    assert _shown(["account_id", "owner_id", "score", "since"]) == {  # 3 others at most
        "account_id": ("Schmidt GmbH", "text", "https://crm/acc-1"),
        "owner_id": ("usr-9", "text", ""),  # asked for, not resolved: the id as it is
        "score": ("4.5", "number", ""),
    }
    assert _shown(["since", "vip"]) == {
        "since": ("2020-03-01", "date", ""),
        "vip": ("true", "boolean", ""),
    }
