"""The shared CRM contract, run against the demo CRM seeded with the shared dataset."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.db import create_demo_crm_engine
from crm.demo import DemoCrm

from .contract import CrmContract
from .dataset import PEOPLE
from .harness import Harness

_TABLES = {"account", "contact", "case", "lead", "task", "custom_subscription"}


@pytest.fixture
async def harness(tmp_path) -> AsyncIterator[Harness]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo-crm.db'}"
    adapter = DemoCrm(
        url,
        seed="empty",
        base_url="http://127.0.0.1:3978/demo-crm",
        open_engine=create_demo_crm_engine,
    )
    await adapter.seed_people(PEOPLE)
    # the "simulator's raw view": the demo's tables read with plain SQL, not through the adapter
    raw = create_async_engine(url)

    async def rows(sql: str, **params: str) -> list[dict[str, Any]]:
        async with raw.connect() as conn:
            return [dict(row) for row in (await conn.execute(text(sql), params)).mappings()]

    async def stored(record_type: str, record_id: str) -> dict[str, Any] | None:
        assert record_type in _TABLES
        found = await rows(f"SELECT * FROM demo_crm_{record_type} WHERE id = :id", id=record_id)
        return found[0] if found else None

    async def timeline_for(record_type: str, record_id: str) -> list[dict[str, Any]]:
        return await rows(
            "SELECT * FROM demo_crm_task WHERE related_type = :type AND related_id = :id"
            " ORDER BY created_at",
            type=record_type,
            id=record_id,
        )

    yield Harness(
        write_requests=None,  # the demo CRM is the service's own database
        adapter=adapter,
        contact_type="contact",
        case_type="case",
        new_contact={
            "first_name": "Erika",
            "last_name": "Mustermann",
            "email": "erika.mustermann@example.de",
            "phone": "+49 221 9876543",
        },
        new_case={
            "subject": "Drucker druckt leere Seiten",
            "description": "Seit dem Update druckt der Drucker im 2. OG nur leere Seiten.",
        },
        updatable_contact_field="title",
        stored=stored,
        timeline_for=timeline_for,
        settings_bounds={"latency_ms": (60_000, [-1, 60_001]), "seed": ("empty", ["full"])},
        phone_fields=("phone", "mobile_phone"),
    )
    await adapter.aclose()
    await raw.dispose()


class TestDemoContract(CrmContract):
    """Every contract test against the demo CRM."""
