"""The shared CRM contract, run against the Oracle B2C Service adapter and its simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crm.registry import AdapterContext, create_adapter
from tests.crm.contract import CrmContract
from tests.crm.harness import Harness
from tests.crm.sim_oracle import BASE, PASSWORD, USERNAME, OracleState, create_app


async def start_oracle(aiohttp_server: Any, **settings: Any) -> tuple[Any, OracleState, Any]:
    """Simulator, its state and an adapter pointed at it (Basic auth unless told otherwise)."""
    state = OracleState()
    state.seed()
    server = await aiohttp_server(create_app(state))
    http = httpx.AsyncClient(timeout=settings.pop("timeout", 5.0))
    secrets = settings.pop("secrets", {"username": USERNAME, "password": PASSWORD})
    if settings.get("auth") == "oauth":
        settings.setdefault("token_url", str(server.make_url("/oauth2/v1/token")))
    context = AdapterContext(
        configuration_id="cfg-oracle",
        type="oracle",
        label="Oracle B2C Service",
        settings={"site": "acme.custhelp.com", "api_base": str(server.make_url(BASE)), **settings},
        secrets=secrets,
        http=http,
    )
    return create_adapter(context), state, http


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[Harness]:
    adapter, state, http = await start_oracle(aiohttp_server)
    anna = next(c for c in state.data["contacts"].values() if c["lookupName"] == "Anna Schmidt")
    collections = {
        "contact": "contacts",
        "organization": "organizations",
        "incident": "incidents",
        "task": "tasks",
    }

    async def stored(record_type: str, record_id: str) -> dict[str, Any] | None:
        if not record_id.isdigit():
            return None
        return state.data[collections[record_type]].get(int(record_id))

    async def timeline_for(record_type: str, record_id: str) -> list[dict[str, Any]]:
        if record_type == "incident":
            incident = state.data["incidents"].get(int(record_id)) or {}
            return [t for t in incident.get("threads", []) if "[customer-card:" in t["text"]]
        return [
            t
            for t in state.data["tasks"].values()
            if (t.get(record_type) or {}).get("id") == int(record_id)
        ]

    yield Harness(
        adapter=adapter,
        contact_type="contact",
        case_type="incident",
        new_contact={"firstName": "Eva", "lastName": "Klein"},
        new_case={
            "primaryContact": str(anna["id"]),
            "subject": "Callback requested",
            "description": "Please call back.",
        },
        updatable_contact_field="title",
        stored=stored,
        timeline_for=timeline_for,
        settings_bounds={"application_context": ("x" * 40, ["", "x" * 41])},
        # contact: the PATCH, then the task (Connect REST has no batch resource); incident:
        # one PATCH carrying the values and the thread entry
        write_requests=(2, 1),
        updatable_case_field="subject",
        misanswer_lookups=lambda: state.unfiltered.add("tasks"),
        phone_fields=("phone", "mobile"),
    )
    await adapter.aclose()
    await http.aclose()


class TestOracleContract(CrmContract):
    pass
