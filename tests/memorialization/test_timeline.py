"""The timeline activity built for each target record."""

from __future__ import annotations

from datetime import timedelta

from bot.memorialization import TargetRecord, build_activity
from bot.memorialization.timeline import NOTES_MAX_LENGTH
from bot.memorialization.values import TRUNCATION_MARKER

from .conftest import START, make_snapshot

TARGET = TargetRecord(record_type="contact", record_id="c-1")


def _snapshot(channel="voice", ended_by="agent", **data):
    return make_snapshot(
        "int-9",
        configuration_id="cfg",
        channel=channel,
        trigger="ended",
        ended_by=ended_by,
        agent_id=None,
        duration=timedelta(seconds=312),
        script_variables={},
        exact_data=data,
        targets=(),
    )


def test_voice_activity_has_subject_direction_times_duration_disposition_agent():
    activity = build_activity(
        _snapshot(
            **{
                "Skill Name": "Billing",
                "Disposition Name": "Resolved",
                "ANI": "+4930123456",
                "Disposition Notes": "Refund issued",
                "Tags": ["refund", "vip"],
            }
        ),
        TARGET,
        "k-1",
    )
    assert activity.key == "k-1"
    assert (activity.record_type, activity.record_id) == ("contact", "c-1")
    assert activity.subject == "Inbound call (Billing)"
    assert activity.direction == "inbound" and activity.channel == "voice"
    assert activity.started_at == START and activity.duration_seconds == 312
    assert activity.disposition == "Resolved"
    assert activity.agent_name == "Ada Agent"
    assert activity.phone_number == "+4930123456"
    assert activity.notes == "Refund issued\nTags: refund, vip\nInteraction ID: int-9"


def test_digital_activity_names_the_channel():
    activity = build_activity(
        _snapshot(channel="digital", **{"Channel Name": "Web chat", "From": "a@b.example"}),
        TARGET,
        "k",
    )
    assert activity.subject == "Web chat conversation"
    assert activity.channel == "digital" and activity.phone_number is None


def test_contact_ended_first_leaves_disposition_notes_and_tags_out():
    activity = build_activity(
        _snapshot(
            ended_by="contact",
            **{"Disposition Name": "Resolved", "Disposition Notes": "secret", "Tags": ["x"]},
        ),
        TARGET,
        "k",
    )
    assert activity.disposition is None
    assert activity.notes == "The contact ended the interaction.\nInteraction ID: int-9"


def test_long_notes_are_cut_with_the_marker():
    activity = build_activity(_snapshot(**{"Disposition Notes": "n" * 5000}), TARGET, "k")
    assert len(activity.notes) == NOTES_MAX_LENGTH
    assert activity.notes.endswith(TRUNCATION_MARKER)
