"""The shared CRM contract, run against the ServiceNow adapter (OAuth) and its simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from .contract import CrmContract
from .harness import Harness
from .sim_servicenow import start_adapter


class TestServiceNowContract(CrmContract):
    @pytest.fixture
    async def harness(self, aiohttp_server) -> AsyncIterator[Harness]:
        async with httpx.AsyncClient() as http:
            sim, adapter = await start_adapter(aiohttp_server, http, auth="oauth")

            async def stored(record_type: str, record_id: str):
                return sim.tables.get(record_type, {}).get(record_id)

            async def timeline_for(record_type: str, record_id: str):
                if record_type == "sys_user":
                    return sim.interactions_for(record_id)
                return sim.journal_for(record_id)

            yield Harness(
                adapter=adapter,
                contact_type="sys_user",
                case_type="incident",
                new_contact={
                    "first_name": "Clara",
                    "last_name": "Neumann",
                    "email": "clara.neumann@example.de",
                    "phone": "+49 40 7654321",
                },
                new_case={
                    "short_description": "Rückruf erbeten",
                    "description": "Kunde bittet um Rückruf.",
                },
                updatable_contact_field="title",
                stored=stored,
                timeline_for=timeline_for,
                settings_bounds={"api_version": ("v2", ["v3", "2"])},
                # a person: the values' PATCH, then the interaction record; an incident:
                # one PATCH with the values and the work note
                write_requests=(2, 1),
                updatable_case_field="short_description",
                misanswer_lookups=lambda: sim.unfiltered.add("sys_journal_field"),
                phone_fields=("phone", "mobile_phone"),
            )
            await adapter.aclose()
