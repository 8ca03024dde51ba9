"""Fixtures for the memorialization tests: a migrated database, the stand-in CRM on
loopback, and a snapshot builder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.memorialization import InteractionSnapshot
from bot.storage.db import create_engine, session_factory
from crm.mappings import MemorializationMapping

from .fake_crm import FakeCrmAdapter, FakeCrmState, create_app

START = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)

MAPPING = MemorializationMapping(
    id="map-1",
    name="Voice and chat",
    record_types=[
        {
            "recordType": "contact",
            "fields": [
                {
                    "crmField": "last_call_skill",
                    "source": {"channel": "voice", "field": "Skill Name"},
                },
                {
                    "crmField": "last_disposition",
                    "source": {"channel": "voice", "field": "Disposition Name"},
                },
                {"crmField": "last_call_at", "source": {"channel": "voice", "field": "Start Time"}},
                {"crmField": "tags", "source": {"channel": "voice", "field": "Tags"}},
                {"crmField": "vip_flag", "source": {"channel": "script_variable", "field": "vip"}},
                {
                    "crmField": "transcript",
                    "source": {"channel": "digital", "field": "Transcription Text"},
                },
            ],
        },
        {
            "recordType": "case",
            "fields": [
                {"crmField": "status", "source": {"channel": "voice", "field": "Status"}},
            ],
        },
    ],
)


def make_snapshot(
    interaction_id: str = "int-1",
    *,
    targets=(("contact", "c-1"),),
    channel: str = "voice",
    trigger: str = "acw_completed",
    ended_by: str | None = "agent",
    occurrence: str = "",
    configuration_id: str = "cfg-1",
    agent_id: str | None = "a-1",
    duration: timedelta = timedelta(minutes=3),
    script_variables: dict[str, Any] | None = None,
    exact_data: dict[str, Any] | None = None,
    **data,
) -> InteractionSnapshot:
    """An interaction of Ada Agent that started at ``START``; its data the defaults below
    updated by ``data``, or ``exact_data`` as it is."""
    defaults = {
        "Skill Name": "Billing",
        "Disposition Name": "Resolved",
        "Tags": ["vip"],
        "Status": "Closed",
    }
    return InteractionSnapshot(
        interaction_id=interaction_id,
        configuration_id=configuration_id,
        channel=channel,
        trigger=trigger,
        occurrence=occurrence,
        ended_by=ended_by,
        direction="inbound",
        agent_id=agent_id,
        agent_name="Ada Agent",
        started_at=START,
        ended_at=START + duration,
        data={**defaults, **data} if exact_data is None else exact_data,
        script_variables={"vip": True} if script_variables is None else script_variables,
        targets=[{"recordType": t, "recordId": i} for t, i in targets],
    )


@asynccontextmanager
async def _sessions_of(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def sessions(database_url):
    async with _sessions_of(database_url) as made:
        yield made


@pytest.fixture
async def sqlite_sessions(sqlite_url):
    async with _sessions_of(sqlite_url) as made:
        yield made


@pytest.fixture
def crm_state() -> FakeCrmState:
    state = FakeCrmState()
    for index in range(1, 51):
        state.add_record("contact", f"c-{index}")
        state.add_record("case", f"k-{index}")
    return state


@pytest.fixture
async def fake_crm(aiohttp_server, crm_state) -> AsyncIterator[FakeCrmAdapter]:
    """The stand-in CRM on loopback and an adapter for it (client timeout 0.3 s)."""
    server = await aiohttp_server(create_app(crm_state))
    async with httpx.AsyncClient(timeout=0.3) as http:
        yield FakeCrmAdapter(str(server.make_url("/")), http)
