"""The DataMemorialization workflow's memorializer: maps and writes at once."""

from __future__ import annotations

from bot.memorialization.direct import direct_memorializer
from crm.interaction_data import InteractionData
from crm.models import CrmRecord

from .conftest import MAPPING


async def test_writes_mapped_values_and_reports_cuts_and_skips(fake_crm, crm_state):
    interaction = InteractionData(
        interaction_id="int-5",
        channel="digital",
        data={"Transcription Text": "t" * 1500, "Skill Name": "Chat"},
        script_variables={"vip": "yes"},
    )
    memorialize = direct_memorializer(fake_crm, interaction, "cfg-1")
    outcome = await memorialize(CrmRecord(type="contact", id="c-3", title="C"), MAPPING)
    stored = crm_state.records[("contact", "c-3")]
    assert stored["vip_flag"] == "yes" and len(stored["transcript"]) == 1000
    assert outcome["written"] == sorted(stored)  # field names; values stay in the CRM
    assert outcome["truncated"] == [
        {"field": "transcript", "originalLength": 1500, "keptLength": 1000}
    ]
    assert outcome["skipped"] == []  # voice rules do not apply to a chat


async def test_contact_ended_first_holds_back_disposition_and_tags(fake_crm, crm_state):
    interaction = InteractionData(
        interaction_id="int-6",
        channel="voice",
        data={"Skill Name": "Billing", "Disposition Name": "Resolved", "Tags": ["vip"]},
    )
    memorialize = direct_memorializer(fake_crm, interaction, "cfg-1", ended_by="contact")
    outcome = await memorialize(CrmRecord(type="contact", id="c-4", title="C"), MAPPING)
    stored = crm_state.records[("contact", "c-4")]
    assert stored["last_call_skill"] == "Billing"
    assert "last_disposition" not in stored and "tags" not in stored
    assert outcome["written"] == ["last_call_skill"]
