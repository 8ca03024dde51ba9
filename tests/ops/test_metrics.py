"""Metrics exposed and counting: activities, interaction events, CRM calls (through
``InstrumentedAdapter`` against the Salesforce simulator), token refreshes, card sends and
the memorialization job gauge read from the outbox."""

from __future__ import annotations

import time
import uuid

import aiohttp
import httpx
import pytest
from aiohttp import web

from bot.observability.instrumented import InstrumentedAdapter, token_refresh_hook
from bot.observability.job_gauge import count_jobs_by_state, job_gauge_refresher
from bot.observability.metrics import Metrics, count_card_operation, metrics_handler
from bot.storage.db import create_engine, session_factory
from bot.storage.job_tables import MemorializationJobRow
from crm.errors import CrmAuthError, CrmNotFoundError
from crm.models import PhoneSearch
from crm.protocol import CrmAdapter
from crm.registry import create_adapter
from crm.tokens import TokenManager
from tests.bot.activities import ANNA_AGENT, card_action
from tests.bot.conftest import follow_up, started
from tests.crm.sim_salesforce import SalesforceSim, adapter_context

from .conftest import ADMIN_KEY, METRICS_AUTH, PLATFORM_KEY, sample, series


async def _scrape(client) -> str:  # type: ignore[no-untyped-def]
    response = await client.get("/metrics", headers=METRICS_AUTH)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return await response.text()


async def test_activities_and_events_are_counted_by_type_and_outcome(bot):
    await bot.install(ANNA_AGENT)
    body = started(ANNA_AGENT, number="+49 40 5550190")
    assert (await bot.event(body))[0] == 202
    assert (await bot.event(body))[0] == 202  # the same eventId again: a duplicate
    status, _ = await bot.event(started({"id": "cx-9", "aadObjectId": "not-installed"}))
    assert status == 409
    status, _ = await bot.event({"type": "started"})
    assert status == 400
    status, _ = await bot.event(follow_up(body["interactionId"], "ended", endedBy="agent"))
    assert status == 202
    card = await bot.card_for(ANNA_AGENT)
    status, _ = await bot.activity(
        card_action(
            bot.service_url, ANNA_AGENT, "refresh", {"interactionId": body["interactionId"]}
        )
    )
    assert status == 200
    response = await bot.client.post(
        "/api/messages", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert card

    text = await _scrape(bot.client)
    events = "customer_card_interaction_events_total"
    assert sample(text, events, type="started", outcome="accepted") == 1
    assert sample(text, events, type="started", outcome="duplicate") == 1
    assert sample(text, events, type="started", outcome="agent_not_installed") == 1
    assert sample(text, events, type="invalid", outcome="invalid_field") == 1
    assert sample(text, events, type="ended", outcome="accepted") == 1
    activities = "customer_card_activities_total"
    assert sample(text, activities, type="installationUpdate", name="", outcome="ok") == 1
    assert sample(text, activities, type="invoke", name="adaptiveCard/action", outcome="ok") == 1
    assert sample(text, activities, type="unknown", name="", outcome="invalid") == 1


async def test_card_sends_count_ok_and_connector_failures():
    metrics = Metrics()
    with count_card_operation(metrics, "send"):
        pass
    with pytest.raises(aiohttp.ClientResponseError), count_card_operation(metrics, "update"):
        raise aiohttp.ClientResponseError(None, (), status=429)  # type: ignore[arg-type]
    with count_card_operation(None, "send"):  # a notifier without metrics: nothing to do
        pass
    text = metrics.exposition().decode()
    cards = "customer_card_card_sends_total"
    assert sample(text, cards, operation="send", outcome="ok") == 1
    assert sample(text, cards, operation="update", outcome="http_429") == 1


@pytest.fixture
async def salesforce(aiohttp_server):  # type: ignore[no-untyped-def]
    sim = SalesforceSim()
    server = await aiohttp_server(sim.app)
    async with httpx.AsyncClient(timeout=2.0) as http:
        made: list[CrmAdapter] = []

        def make(**kw):  # type: ignore[no-untyped-def]
            adapter = create_adapter(
                adapter_context(sim, str(server.make_url("")).rstrip("/"), http, **kw)
            )
            made.append(adapter)
            return adapter

        yield make
        for adapter in made:
            await adapter.aclose()


async def test_crm_calls_are_counted_by_configuration_operation_and_outcome(salesforce):
    metrics = Metrics()
    adapter = InstrumentedAdapter(salesforce(), metrics, "cfg-sf")
    assert isinstance(adapter, CrmAdapter)
    found = await adapter.search(PhoneSearch(number="+49 30 1234567"))
    assert found and found[0].title == "Anna Schmidt"
    assert (await adapter.get(found[0].type, found[0].id)).id == found[0].id
    with pytest.raises(CrmNotFoundError):
        await adapter.get("Contact", "003000000999999AAA")
    assert found[0].id in adapter.record_url("Contact", found[0].id)
    refused = InstrumentedAdapter(salesforce(client_secret="wrong-secret"), metrics, "cfg-bad")
    with pytest.raises(CrmAuthError):
        await refused.check()

    text = metrics.exposition().decode()
    calls = "customer_card_crm_calls_total"
    base = {"crm": "salesforce"}
    assert (
        sample(text, calls, configuration="cfg-sf", operation="search", outcome="ok", **base) == 1
    )
    assert sample(text, calls, configuration="cfg-sf", operation="get", outcome="ok", **base) == 1
    assert (
        sample(
            text, calls, configuration="cfg-sf", operation="get", outcome="crm_not_found", **base
        )
        == 1
    )
    assert (
        sample(text, calls, configuration="cfg-bad", operation="check", outcome="crm_auth", **base)
        == 1
    )
    assert not [s for s in series(text, calls) if s["operation"] == "record_url"]
    timed = sample(
        text,
        "customer_card_crm_call_seconds_count",
        configuration="cfg-sf",
        operation="get",
        **base,
    )
    assert timed == 2  # failures are timed too


async def test_token_refresh_hook_counts_each_minted_token():
    metrics = Metrics()
    minted = iter(range(100))

    async def fetch():  # type: ignore[no-untyped-def]
        return f"token-{next(minted)}", 3600.0, None

    tokens = TokenManager(fetch, on_refresh=token_refresh_hook(metrics, "dynamics"))
    first = await tokens.get()
    assert await tokens.get() == first  # cached: not minted again
    await tokens.invalidate(first.value)
    await tokens.get()
    text = metrics.exposition().decode()
    assert sample(text, "customer_card_token_refreshes_total", crm="dynamics") == 2


def _job(status: str) -> MemorializationJobRow:
    key = uuid.uuid4().hex
    return MemorializationJobRow(
        dedupe_key=key,
        timeline_key=f"cc:{key[:8]}",
        interaction_id="int-1",
        configuration_id="cfg-1",
        record_type="contact",
        record_id=key[:6],
        trigger="ended",
        payload={},
        status=status,
        available_at=time.time(),
    )


async def test_job_gauge_is_read_from_the_outbox_on_each_scrape(aiohttp_client, database_url):
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            session.add_all([_job("pending"), _job("pending"), _job("failed"), _job("done")])
        assert await count_jobs_by_state(sessions) == {"pending": 2, "failed": 1, "done": 1}

        metrics = Metrics()
        factory: list = [None]  # the app has not started yet: no sessions
        app = web.Application()
        app.router.add_get(
            "/metrics", metrics_handler(metrics, job_gauge_refresher(metrics, lambda: factory[0]))
        )
        client = await aiohttp_client(app)
        assert (
            sample(await _scrape(client), "customer_card_memorialization_jobs", state="pending")
            == 0
        )

        factory[0] = sessions
        text = await _scrape(client)
        gauge = {s["state"]: s["value"] for s in series(text, "customer_card_memorialization_jobs")}
        assert gauge == {"pending": 2, "running": 0, "done": 1, "failed": 1}

        async with sessions() as session, session.begin():
            session.add(_job("running"))
        text = await _scrape(client)
        assert sample(text, "customer_card_memorialization_jobs", state="running") == 1
    finally:
        await engine.dispose()


async def test_scrape_answers_when_the_job_gauge_cannot_be_read(aiohttp_client, tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    metrics = Metrics()
    metrics.count_event("started", "accepted")
    app = web.Application()
    app.router.add_get(
        "/metrics",
        metrics_handler(metrics, job_gauge_refresher(metrics, lambda: session_factory(engine))),
    )
    client = await aiohttp_client(app)
    try:
        text = await _scrape(client)
    finally:
        await engine.dispose()
    assert (
        sample(text, "customer_card_interaction_events_total", type="started", outcome="accepted")
        == 1
    )


@pytest.mark.parametrize(
    ("body", "labels"),
    [
        ({"type": "invoke", "name": "task/fetch"}, ("invoke", "task/fetch")),
        ({"type": "message", "name": "ignored"}, ("message", "")),
        ({"type": "invoke", "name": "x" * 500}, ("invoke", "x" * 64)),
        ({"type": "madeUp-" + "y" * 300}, ("other", "")),
        ([1, 2], ("unknown", "")),
    ],
)
def test_activity_labels_stay_few_and_short(body, labels):
    from bot.api.messages import activity_labels

    assert activity_labels(body) == labels


def test_card_actions_and_dialogs_name_their_interaction_for_the_logs():
    from bot.api.messages import correlation_ids

    action = {"id": "a-1", "value": {"action": {"data": {"interactionId": "ix-1"}}}}
    dialog = {"id": "a-2", "value": {"data": {"interactionId": "ix-2"}}}
    assert correlation_ids(action) == {"activity_id": "a-1", "interaction_id": "ix-1"}
    assert correlation_ids(dialog) == {"activity_id": "a-2", "interaction_id": "ix-2"}
    assert correlation_ids({"id": 5, "value": "text"}) == {
        "activity_id": None,
        "interaction_id": None,
    }


async def test_a_real_adapter_reports_each_minted_token(aiohttp_server):
    """The adapters hand ``extra["on_token_refresh"]`` to their token manager."""
    metrics = Metrics()
    sim = SalesforceSim()
    server = await aiohttp_server(sim.app)
    async with httpx.AsyncClient(timeout=2.0) as http:
        context = adapter_context(sim, str(server.make_url("")).rstrip("/"), http)
        context.extra["on_token_refresh"] = token_refresh_hook(metrics, "salesforce")
        adapter = create_adapter(context)
        try:
            await adapter.search(PhoneSearch(number="+49 30 1234567"))
        finally:
            await adapter.aclose()
    text = metrics.exposition().decode()
    assert sample(text, "customer_card_token_refreshes_total", crm="salesforce") >= 1


async def test_scrape_needs_a_metrics_or_admin_key(bot):
    assert (await bot.client.get("/metrics")).status == 401
    # a known key of another scope: 403 (insufficient_scope); unknown keys 401
    for key, status in (("wrong", 401), (PLATFORM_KEY, 403), (ADMIN_KEY, 200)):
        response = await bot.client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
        assert response.status == status, key
    refused = await bot.client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert (await refused.json())["error"] == "unauthorized"
    # a scraper's key opens nothing else
    response = await bot.client.get("/api/v1/configurations", headers=METRICS_AUTH)
    assert response.status == 403
    document = await (
        await bot.client.get(
            "/api/v1/openapi.json", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )
    ).json()
    assert document["paths"]["/metrics"]["get"]["responses"]["401"]
