"""The shared CRM contract, run against the Dynamics 365 / Dataverse adapter and its
simulator (served over TLS, since MSAL speaks only https)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.registry import create_adapter

from .contract import CrmContract
from .harness import Harness
from .sim_dynamics import DataverseSim, adapter_context, tls_files


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    return tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def harness(aiohttp_server, tls) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    ca, cert, key = tls
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    sim = DataverseSim()
    server = await aiohttp_server(sim.app, ssl=server_ctx)
    client_ctx = ssl.create_default_context(cafile=str(ca))
    async with httpx.AsyncClient(timeout=5.0, verify=client_ctx) as http:
        adapter = create_adapter(
            adapter_context(sim, str(server.make_url("")).rstrip("/"), http, ca)
        )

        async def stored(record_type: str, record_id: str) -> dict[str, Any] | None:
            return sim.records.get(record_type, {}).get(record_id)

        async def timeline_for(record_type: str, record_id: str) -> list[dict[str, Any]]:
            return [
                row
                for kind in ("phonecall", "task")
                for row in sim.records[kind].values()
                if row.get("_regardingobjectid_value") == record_id
            ]

        yield Harness(
            adapter=adapter,
            contact_type="contact",
            case_type="incident",
            new_contact={
                "firstname": "Erika",
                "lastname": "Mustermann",
                "emailaddress1": "erika.mustermann@example.de",
                "telephone1": "+49 221 9876543",
            },
            new_case={
                "title": "Drucker druckt leere Seiten",
                "description": "Seit dem Update druckt der Drucker nur leere Seiten.",
            },
            updatable_contact_field="jobtitle",
            updatable_case_field="title",
            stored=stored,
            timeline_for=timeline_for,
            settings_bounds={
                "page_size": (5000, [0, 5001]),
                "description_max": (1_048_576, [0, 1_048_577]),
            },
            # the values' PATCH and the activity's POST in one $batch
            write_requests=(1, 1),
            misanswer_lookups=lambda: sim.unfiltered.add("phonecall"),
            phone_fields=("telephone1", "mobilephone"),
        )
        await adapter.aclose()


class TestDynamicsContract(CrmContract):
    """Every contract test against the Dataverse simulator."""
