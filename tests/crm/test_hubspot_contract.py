"""The shared CRM contract, run against the HubSpot adapter and its simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from .contract import CrmContract
from .harness import Harness
from .sim_hubspot import start_adapter


class TestHubSpotContract(CrmContract):
    @pytest.fixture
    async def harness(self, aiohttp_server) -> AsyncIterator[Harness]:
        async with httpx.AsyncClient() as http:
            sim, adapter = await start_adapter(aiohttp_server, http)

            async def stored(record_type: str, record_id: str):
                return sim.objects.get(record_type, {}).get(record_id)

            async def timeline_for(record_type: str, record_id: str):
                return sim.calls_for(record_type, record_id)

            yield Harness(
                adapter=adapter,
                contact_type="contacts",
                case_type="tickets",
                new_contact={
                    "firstname": "Clara",
                    "lastname": "Neumann",
                    "email": "clara.neumann@example.de",
                    "phone": "+49 40 7654321",
                },
                new_case={
                    "subject": "Rückruf erbeten",
                    "content": "Kunde bittet um Rückruf.",
                    "hs_pipeline_stage": "1",
                },
                updatable_contact_field="jobtitle",
                stored=stored,
                timeline_for=timeline_for,
                settings_bounds={"api_version": ("2026-03", ["3", "v3.1", "2026-3"])},
                # the PATCH, then the call created with its association (batch endpoints
                # take one object type: no request takes both)
                write_requests=(2, 2),
                updatable_case_field="subject",
                misanswer_lookups=lambda: sim.unfiltered.add("calls"),
                phone_fields=("phone", "mobilephone"),
            )
            await adapter.aclose()
