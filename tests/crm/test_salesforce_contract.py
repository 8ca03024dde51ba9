"""The shared CRM contract, run against the Salesforce adapter and its simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crm.registry import create_adapter

from .contract import CrmContract
from .harness import Harness
from .sim_salesforce import SalesforceSim, adapter_context


@pytest.fixture
async def harness(aiohttp_server) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    sim = SalesforceSim()
    server = await aiohttp_server(sim.app)
    async with httpx.AsyncClient(timeout=5.0) as http:
        adapter = create_adapter(adapter_context(sim, str(server.make_url("")).rstrip("/"), http))

        async def stored(record_type: str, record_id: str) -> dict[str, Any] | None:
            return sim.records.get(record_type, {}).get(record_id)

        async def timeline_for(record_type: str, record_id: str) -> list[dict[str, Any]]:
            return [
                task
                for task in sim.records["Task"].values()
                if record_id in (task.get("WhoId"), task.get("WhatId"))
            ]

        yield Harness(
            adapter=adapter,
            contact_type="Contact",
            case_type="Case",
            new_contact={
                "FirstName": "Erika",
                "LastName": "Mustermann",
                "Email": "erika.mustermann@example.de",
                "Phone": "+49 221 9876543",
            },
            new_case={
                "Subject": "Drucker druckt leere Seiten",
                "Description": "Seit dem Update druckt der Drucker nur leere Seiten.",
            },
            updatable_contact_field="Title",
            stored=stored,
            timeline_for=timeline_for,
            settings_bounds={"api_version": ("v62.0", ["62", "62.5", "6.0"])},
            # the values and the Task in one Composite request
            write_requests=(1, 1),
            updatable_case_field="Subject",
            misanswer_lookups=lambda: sim.unfiltered.add("Task"),
            phone_fields=("Phone", "MobilePhone"),
        )
        await adapter.aclose()


class TestSalesforceContract(CrmContract):
    """Every contract test against the Salesforce simulator."""
