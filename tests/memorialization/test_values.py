"""The mapping function: interaction data + rules + field metadata -> field values."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.memorialization import cut_text, format_value, map_fields
from bot.memorialization.values import TRUNCATION_MARKER, SkippedRule, Truncation
from crm.mappings import FieldMapping
from crm.models import FieldInfo, FieldType

from .conftest import make_snapshot


def _snapshot(channel="voice", ended_by=None, **data):
    return make_snapshot(
        channel=channel,
        trigger="ended",
        ended_by=ended_by,
        agent_id=None,
        duration=timedelta(minutes=5),
        script_variables={"vip": True, "ordernumber": 4711, "attachment": {"url": "x"}},
        exact_data=data,
        targets=(),
    )


def _rule(field, channel, source):
    return FieldMapping(crm_field=field, source={"channel": channel, "field": source})


def _info(name, type_=FieldType.TEXT, max_length=None, **extra):
    return FieldInfo(name=name, label=name, type=type_, max_length=max_length, **extra)


FIELDS = [
    _info("Skill__c"),
    _info("Started__c"),
    _info("Vip__c"),
    _info("Order__c"),
    _info("Tags__c"),
    _info("Disposition__c"),
    _info("Status__c"),
    _info("Transcript__c", FieldType.LONG_TEXT, max_length=100),
    _info("Owner__c", FieldType.REFERENCE),
    _info("File__c", FieldType.OTHER),
    _info("Locked__c", updateable=False),
    _info("Priority__c", FieldType.PICKLIST, options=["High", "Low"]),
]


def test_values_are_text_iso_timestamps_true_false_and_joined_lists():
    snapshot = _snapshot(**{"Skill Name": "Billing", "Tags": ["vip", "refund"]})
    rules = [
        _rule("Skill__c", "voice", "Skill Name"),
        _rule("Started__c", "voice", "Start Time"),
        _rule("Vip__c", "script_variable", "vip"),
        _rule("Order__c", "script_variable", "ordernumber"),
        _rule("Tags__c", "voice", "Tags"),
    ]
    mapped = map_fields(snapshot, rules, FIELDS)
    assert mapped.values == {
        "Skill__c": "Billing",
        "Started__c": "2025-05-01T09:30:00+00:00",
        "Vip__c": "true",
        "Order__c": "4711",
        "Tags__c": "vip, refund",
    }
    assert mapped.truncations == () and mapped.skipped == ()


def test_format_value_covers_each_kind():
    assert format_value(False) == "false"
    assert format_value(3.5) == "3.5"
    assert format_value(date(2025, 1, 2)) == "2025-01-02"
    # a naive timestamp is taken as UTC; an offset is kept
    assert format_value(datetime(2025, 1, 2, 3, 4)) == "2025-01-02T03:04:00+00:00"
    east = datetime(2025, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2)))
    assert format_value(east) == "2025-01-02T03:04:00+02:00"
    assert format_value({"url": "https://x/attachment.png"}) is None
    assert format_value(b"\x89PNG") is None
    assert format_value(["a", {"image": 1}]) is None


def test_rules_of_the_other_channel_are_not_applied():
    snapshot = _snapshot(channel="digital", **{"Skill Name": "Chat", "ANI": "+4930123"})
    rules = [_rule("Skill__c", "digital", "Skill Name"), _rule("Order__c", "voice", "ANI")]
    mapped = map_fields(snapshot, rules, FIELDS)
    assert mapped.values == {"Skill__c": "Chat"}
    assert mapped.skipped == (SkippedRule("Order__c", "ANI", "other_channel"),)


def test_contact_ended_first_leaves_out_status_disposition_and_tags_only():
    data = {
        "Status": "Resolved",
        "Disposition Name": "Sale",
        "Tags": ["a"],
        "Skill Name": "Billing",
    }
    rules = [
        _rule("Status__c", "voice", "Status"),
        _rule("Disposition__c", "voice", "Disposition Name"),
        _rule("Tags__c", "voice", "Tags"),
        _rule("Skill__c", "voice", "Skill Name"),
    ]
    by_contact = map_fields(_snapshot(ended_by="contact", **data), rules, FIELDS)
    assert by_contact.values == {"Skill__c": "Billing"}
    assert {skip.reason for skip in by_contact.skipped} == {"contact_ended"}
    by_agent = map_fields(_snapshot(ended_by="agent", **data), rules, FIELDS)
    assert set(by_agent.values) == {"Status__c", "Disposition__c", "Tags__c", "Skill__c"}


def test_attachments_references_files_and_unknown_fields_are_never_mapped():
    snapshot = _snapshot(**{"Skill Name": "Billing", "Recording URL": "https://rec/1"})
    rules = [
        _rule("Order__c", "script_variable", "attachment"),
        _rule("Owner__c", "voice", "Skill Name"),
        _rule("File__c", "voice", "Recording URL"),
        _rule("Nope__c", "voice", "Skill Name"),
        _rule("Locked__c", "voice", "Skill Name"),
        _rule("Vip__c", "voice", "Disposition Notes"),
    ]
    mapped = map_fields(snapshot, rules, FIELDS)
    assert mapped.values == {}
    assert [(skip.field, skip.reason) for skip in mapped.skipped] == [
        ("Order__c", "not_text"),
        ("Owner__c", "not_writable_type"),
        ("File__c", "not_writable_type"),
        ("Nope__c", "unknown_field"),
        ("Locked__c", "not_updateable"),
        ("Vip__c", "no_value"),
    ]


def test_field_names_match_case_insensitively_and_use_the_crm_spelling():
    mapped = map_fields(
        _snapshot(**{"Skill Name": "Billing"}), [_rule("skill__C", "voice", "Skill Name")], FIELDS
    )
    assert mapped.values == {"Skill__c": "Billing"}


def test_picklist_values_outside_the_options_are_not_sent():
    rules = [_rule("Priority__c", "voice", "Skill Name")]
    assert map_fields(_snapshot(**{"Skill Name": "High"}), rules, FIELDS).values == {
        "Priority__c": "High"
    }
    refused = map_fields(_snapshot(**{"Skill Name": "Urgent"}), rules, FIELDS)
    assert refused.values == {} and refused.skipped[0].reason == "not_an_option"


def test_long_transcript_is_cut_to_the_field_length_with_a_marker_and_recorded():
    transcript = "Customer: hello. " * 50  # 850 characters
    snapshot = _snapshot(channel="digital", **{"Transcription Text": transcript})
    mapped = map_fields(snapshot, [_rule("Transcript__c", "digital", "Transcription Text")], FIELDS)
    written = mapped.values["Transcript__c"]
    assert len(written) == 100
    assert written.endswith(TRUNCATION_MARKER)
    assert written.startswith(transcript[: 100 - len(TRUNCATION_MARKER)])
    assert mapped.truncations == (Truncation("Transcript__c", 850, 100),)


def test_text_that_fits_is_not_cut():
    assert cut_text("x" * 100, 100) == ("x" * 100, False)
    assert cut_text("x" * 101, None) == ("x" * 101, False)
    # a field too short for the marker still gets no more than its length
    assert cut_text("abcdef", 3) == ("abc", True)


def test_typed_snapshot_fields_serve_as_sources():
    rules = [_rule("Skill__c", "voice", "Agent Name"), _rule("Order__c", "voice", "Interaction ID")]
    assert map_fields(_snapshot(), rules, FIELDS).values == {
        "Skill__c": "Ada Agent",
        "Order__c": "int-1",
    }
