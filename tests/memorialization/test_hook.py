"""The event hook: which stored events queue jobs, for which records, with what data."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.interactions.events import StoredEvent
from bot.memorialization.hook import MemorializationHook
from bot.storage.tables import InteractionRecordRow, InteractionRow

from .conftest import MAPPING
from .helpers import jobs

AT = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)


async def _mapping_for(configuration_id):
    assert configuration_id == "cfg-1"
    return MAPPING


def _event(kind, *, ended_by=None, **data):
    return StoredEvent(
        event_id=f"ev-{kind}",
        interaction_id="int-1",
        type=kind,
        ended_by=ended_by,
        data=data,
        script_variables={},
        occurred_at=AT,
    )


async def _interaction(sessions, channel="voice", **data):
    async with sessions() as session, session.begin():
        session.add(
            InteractionRow(
                id="int-1",
                configuration_id="cfg-1",
                channel=channel,
                state="started",
                agent_id="a-1",
                agent_name="Ada",
                data={"Skill Name": "Billing", "Direction": "Inbound", **data},
                started_at=datetime(2025, 5, 1, 9, 55, tzinfo=UTC),
            )
        )
        await session.flush()
        session.add_all(
            [
                InteractionRecordRow(
                    interaction_id="int-1",
                    section="current",
                    origin="match",
                    record_type="contact",
                    record_id="c-1",
                ),
                InteractionRecordRow(
                    interaction_id="int-1",
                    section="current",
                    origin="pinned",
                    record_type="case",
                    record_id="k-1",
                ),
                InteractionRecordRow(
                    interaction_id="int-1",
                    section="related",
                    origin="related",
                    record_type="case",
                    record_id="k-2",
                ),
            ]
        )


async def _fire(sessions, event, *, ended_by=None):
    hook = MemorializationHook(_mapping_for)
    async with sessions() as session, session.begin():
        row = await session.get(InteractionRow, "int-1")
        row.state = event.type
        if event.type == "ended":
            row.ended_by, row.ended_at = event.ended_by, AT
        await hook(session, row, event)


async def test_voice_without_acw_queues_current_records_when_it_ends(sqlite_sessions):
    await _interaction(sqlite_sessions)
    await _fire(sqlite_sessions, _event("updated"))
    assert await jobs(sqlite_sessions) == []
    await _fire(sqlite_sessions, _event("ended", ended_by="contact"))
    rows = await jobs(sqlite_sessions)
    assert [(r.record_type, r.record_id, r.trigger) for r in rows] == [
        ("contact", "c-1", "ended"),
        ("case", "k-1", "ended"),
    ]  # not the related one
    snapshot = rows[0].payload["snapshot"]
    assert snapshot["endedBy"] == "contact" and snapshot["direction"] == "inbound"
    assert snapshot["agentName"] == "Ada" and snapshot["endedAt"].startswith("2025-05-01T10")
    assert rows[1].payload["rules"] == [
        {"crmField": "status", "source": {"channel": "voice", "field": "Status"}}
    ]


async def test_voice_with_acw_waits_for_acw_completed(sqlite_sessions):
    await _interaction(sqlite_sessions, ACW=True)
    await _fire(sqlite_sessions, _event("ended", ended_by="agent"))
    assert await jobs(sqlite_sessions) == []
    await _fire(sqlite_sessions, _event("acw_completed"))
    assert [r.trigger for r in await jobs(sqlite_sessions)] == ["acw_completed"] * 2


async def test_digital_queues_on_each_hand_off(sqlite_sessions):
    await _interaction(sqlite_sessions, channel="digital")
    await _fire(sqlite_sessions, _event("ended", ended_by="agent"))
    await _fire(sqlite_sessions, _event("transferred"))
    await _fire(sqlite_sessions, _event("dismissed"))
    assert [r.trigger for r in await jobs(sqlite_sessions)] == [
        "transferred",
        "transferred",
        "dismissed",
        "dismissed",
    ]
