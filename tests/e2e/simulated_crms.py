"""Every CRM the service speaks, each started on loopback for an end-to-end flow: the vendor
simulator from ``tests/crm`` (seeded with ``tests.crm.dataset.PEOPLE``), the configuration
settings and secrets that point the real adapter at it, and accessors that read the
simulator's own state (vendor JSON), never through the adapter under test.
"""

from __future__ import annotations

import inspect
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.db import create_demo_crm_engine
from crm.demo import DemoCrm
from tests.crm import sim_hubspot, sim_kustomer, sim_oracle, sim_servicenow, sim_zendesk
from tests.crm.dataset import PEOPLE
from tests.crm.sim_dynamics import DataverseSim, tls_files
from tests.crm.sim_salesforce import SalesforceSim

__all__ = ["SimulatedCrm", "START", "CRM_TYPES"]

Raw = dict[str, Any]


@dataclass
class SimulatedCrm:
    """A running CRM simulator and how the service reaches it."""

    type: str
    settings: dict[str, Any]
    secrets: dict[str, str]
    contact_type: str  # the person record type the caller look-up finds
    text_field: str  # a writable text field of ``contact_type`` for the mapping
    # the simulator's raw contact (vendor JSON), None when it does not exist
    contact: Callable[[str], Raw | None | Awaitable[Raw | None]]
    # timeline activities the simulator holds linked to the contact (vendor JSON)
    activities: Callable[[str], list[Raw] | Awaitable[list[Raw]]]
    # the value of ``text_field`` in a raw contact, where it is not at its top level
    nested_field: Callable[[Raw], Any] | None = None
    close: Callable[[], Awaitable[None]] | None = None

    async def stored(self, record_id: str) -> Raw | None:
        return await _settled(self.contact(record_id))

    async def timeline_for(self, record_id: str) -> list[Raw]:
        return await _settled(self.activities(record_id))

    def field_of(self, raw: Raw) -> Any:
        return self.nested_field(raw) if self.nested_field else raw.get(self.text_field)


T = TypeVar("T")


async def _settled(value: T | Awaitable[T]) -> T:
    """The simulators' state is read directly; the demo CRM's through its database."""
    return await value if inspect.isawaitable(value) else value


Starter = Callable[[Any, Path], Awaitable[SimulatedCrm]]


def _url(server: Any, path: str = "") -> str:
    return str(server.make_url(path)).rstrip("/")


async def _salesforce(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    sim = SalesforceSim()
    base = _url(await aiohttp_server(sim.app))
    return SimulatedCrm(
        type="salesforce",
        settings={"client_id": sim.client_id, "login_url": base},
        secrets={"client_secret": sim.client_secret},
        contact_type="Contact",
        text_field="Title",
        contact=lambda i: sim.records["Contact"].get(i),
        activities=(
            lambda i: [
                t for t in sim.records["Task"].values() if i in (t.get("WhoId"), t.get("WhatId"))
            ]
        ),
    )


async def _dynamics(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    # MSAL talks to its authority over https only, so the simulator is served over TLS with
    # a throw-away CA (the ``ca_bundle`` setting), which the adapter trusts for its token
    # calls and its Web API calls alike.
    ca, cert, key = tls_files(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    sim = DataverseSim()
    tls_base = _url(await aiohttp_server(sim.app, ssl=server_ctx))
    return SimulatedCrm(
        type="dynamics",
        settings={
            "org_url": tls_base,
            "tenant_id": sim.tenant_id,
            "client_id": sim.client_id,
            "authority": f"{tls_base}/{sim.tenant_id}",
            "ca_bundle": str(ca),
            "scope": "https://contoso.crm4.dynamics.com/.default",
            "api_base": f"{tls_base}/api/data/v9.2",
        },
        secrets={"client_secret": sim.client_secret},
        contact_type="contact",
        text_field="jobtitle",
        contact=lambda i: sim.records["contact"].get(i),
        activities=(
            lambda i: [
                row
                for kind in ("phonecall", "task")
                for row in sim.records[kind].values()
                if row.get("_regardingobjectid_value") == i
            ]
        ),
    )


async def _hubspot(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    sim = sim_hubspot.HubSpotSim()
    sim.seed()
    base = _url(await aiohttp_server(sim.app()))
    return SimulatedCrm(
        type="hubspot",
        settings={
            "account_id": sim_hubspot.PORTAL_ID,
            "api_base": base,
            "external_screenpop_domain_hs": "app-eu1.hubspot.com",
        },
        secrets={"access_token": sim.token},
        contact_type="contacts",
        text_field="jobtitle",
        contact=lambda i: sim.objects["contacts"].get(i),
        nested_field=lambda raw: raw["properties"].get("jobtitle"),
        activities=lambda i: sim.calls_for("contacts", i),
    )


async def _servicenow(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    sim = sim_servicenow.ServiceNowSim()
    sim.seed()
    base = _url(await aiohttp_server(sim.app()))
    return SimulatedCrm(
        type="servicenow",
        settings={"instance": "acme", "api_base": base, "auth": "oauth"},
        secrets={
            "username": sim_servicenow.USERNAME,
            "password": sim_servicenow.PASSWORD,
            "client_id": sim_servicenow.CLIENT_ID,
            "client_secret": sim_servicenow.CLIENT_SECRET,
        },
        contact_type="sys_user",
        text_field="title",
        contact=lambda i: sim.tables["sys_user"].get(i),
        # an interaction record per call; its text is the record's work note (journal)
        activities=(
            lambda i: [
                {**row, "journal": sim.journal_for(row["sys_id"])}
                for row in sim.interactions_for(i)
            ]
        ),
    )


async def _zendesk(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    state = sim_zendesk.ZendeskState()
    state.seed()
    base = _url(await aiohttp_server(sim_zendesk.create_app(state)))
    return SimulatedCrm(
        type="zendesk",
        settings={
            "subdomain": "acme",
            "api_base": f"{base}/api/v2",
            "token_url": f"{base}/oauth/tokens",
            "phone_fields": ["mobile"],
        },
        secrets={"client_id": sim_zendesk.CLIENT_ID, "client_secret": sim_zendesk.CLIENT_SECRET},
        contact_type="user",
        text_field="notes",
        contact=lambda i: state.users.get(int(i)) if i.isdigit() else None,
        activities=(
            lambda i: [
                t
                for t in state.tickets.values()
                if str(t.get("requester_id")) == i and t.get("external_id")
            ]
        ),
    )


async def _kustomer(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    state = sim_kustomer.KustomerState()
    state.seed()
    server = await aiohttp_server(sim_kustomer.create_app(state))
    return SimulatedCrm(
        type="kustomer",
        settings={"org": "acme", "api_base": _url(server, "/v1")},
        secrets={"api_key": sim_kustomer.API_KEY},
        contact_type="customer",
        text_field="notesStr",
        contact=lambda i: state.resources["customer"].get(i),
        nested_field=lambda raw: raw["attributes"].get("custom", {}).get("notesStr"),
        # a conversation per call; its text is the conversation's note
        activities=(
            lambda i: [
                {
                    **c,
                    "notes": [
                        n
                        for n in state.resources["note"].values()
                        if n["relationships"]["conversation"]["data"]["id"] == c["id"]
                    ],
                }
                for c in state.resources["conversation"].values()
                if c["relationships"]["customer"]["data"]["id"] == i
                and c["attributes"].get("externalId")
            ]
        ),
    )


async def _oracle(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    state = sim_oracle.OracleState()
    state.seed()
    server = await aiohttp_server(sim_oracle.create_app(state))
    return SimulatedCrm(
        type="oracle",
        settings={"site": "acme.custhelp.com", "api_base": _url(server, sim_oracle.BASE)},
        secrets={"username": sim_oracle.USERNAME, "password": sim_oracle.PASSWORD},
        contact_type="contact",
        text_field="title",
        contact=lambda i: state.data["contacts"].get(int(i)) if i.isdigit() else None,
        activities=(
            lambda i: [
                t
                for t in state.data["tasks"].values()
                if str((t.get("contact") or {}).get("id")) == i
            ]
        ),
    )


async def _demo(aiohttp_server: Any, tmp_path: Path) -> SimulatedCrm:
    # The service's demo CRM database (``make_settings`` puts it here), seeded with the
    # shared people before the service starts: the sample data is added only to an empty one.
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo-crm.db'}"
    seeder = DemoCrm(url, seed="empty", open_engine=create_demo_crm_engine)
    await seeder.seed_people(PEOPLE)
    await seeder.aclose()
    raw = create_async_engine(url)

    async def rows(sql: str, **params: str) -> list[Raw]:
        async with raw.connect() as conn:
            return [dict(row) for row in (await conn.execute(text(sql), params)).mappings()]

    async def stored(record_id: str) -> Raw | None:
        found = await rows("SELECT * FROM demo_crm_contact WHERE id = :id", id=record_id)
        return found[0] if found else None

    async def timeline_for(record_id: str) -> list[Raw]:
        return await rows(
            "SELECT * FROM demo_crm_task WHERE related_type = 'contact' AND related_id = :id",
            id=record_id,
        )

    return SimulatedCrm(
        type="demo",
        settings={"seed": "empty"},
        secrets={},
        contact_type="contact",
        text_field="title",
        contact=stored,
        activities=timeline_for,
        close=raw.dispose,
    )


START: dict[str, Starter] = {
    "salesforce": _salesforce,
    "dynamics": _dynamics,
    "hubspot": _hubspot,
    "servicenow": _servicenow,
    "zendesk": _zendesk,
    "kustomer": _kustomer,
    "oracle": _oracle,
    "demo": _demo,
}
CRM_TYPES = list(START)
