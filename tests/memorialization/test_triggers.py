"""When memorialization runs, and what the contact-ended-first rule holds back."""

from __future__ import annotations

import pytest

from bot.memorialization import excluded_sources, memorialization_due

EVENTS = ["started", "updated", "ended", "acw_completed", "transferred", "unassigned", "dismissed"]


@pytest.mark.parametrize("event", EVENTS)
def test_voice_with_after_call_work_runs_on_acw_completed_only(event):
    assert memorialization_due(event, "voice", has_acw=True) is (event == "acw_completed")


@pytest.mark.parametrize("event", EVENTS)
def test_voice_without_after_call_work_runs_when_it_ends(event):
    # acw_completed cannot come without after-call work; if it does, it still triggers
    expected = event in ("ended", "acw_completed")
    assert memorialization_due(event, "voice", has_acw=False) is expected


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("has_acw", [True, False])
def test_digital_runs_on_transfer_unassign_dismiss(event, has_acw):
    expected = event in ("transferred", "unassigned", "dismissed")
    assert memorialization_due(event, "digital", has_acw=has_acw) is expected


def test_unknown_channel_never_runs():
    assert not memorialization_due("ended", "fax", has_acw=False)


def test_contact_ended_first_holds_back_status_disposition_and_tags():
    assert excluded_sources("contact") == {
        "Status",
        "Disposition Name",
        "Disposition Notes",
        "Tags",
    }
    assert excluded_sources("agent") == frozenset()
    assert excluded_sources(None) == frozenset()
