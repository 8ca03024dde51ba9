"""The whole path in the running service: interaction events over HTTP -> event hook ->
outbox -> worker -> the demo CRM's timeline, visible in the memorialization API."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.services import SERVICES
from tests.bot.activities import ANNA_AGENT
from tests.bot.conftest import (
    AUTH,
    Bot,
    follow_up,
    make_settings,
    started,
)

from .helpers import api_jobs, api_settled


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_ended_call_reaches_the_demo_crm_timeline(
    connector,
    service_url,
    aiohttp_client,
    tmp_path,
    database_url,
):
    app = create_app(make_settings(tmp_path, database_url))
    bot = Bot(await aiohttp_client(TestServer(app)), connector, service_url)
    await bot.install(ANNA_AGENT)
    body = started(ANNA_AGENT)
    interaction_id = body["interactionId"]
    status, state = await bot.event(body)
    assert status == 202, state
    await bot.card_for(ANNA_AGENT)  # the look-up has filled Current Interaction
    status, state = await bot.event(follow_up(interaction_id, "updated"))
    assert await api_jobs(bot, interaction_id) == []  # not a trigger
    current = await bot.client.get(f"/api/v1/interactions/{interaction_id}", headers=AUTH)
    records = (await current.json())["current"]
    assert records, "the caller should have matched a demo contact"

    status, _ = await bot.event(follow_up(interaction_id, "ended", endedBy="agent"))
    assert status == 202
    jobs = await api_settled(bot, interaction_id)
    assert [(job["recordType"], job["recordId"], job["status"]) for job in jobs] == [
        (record["type"], record["id"], "done") for record in reversed(records)
    ]

    services = app[SERVICES]
    adapter = await services.directory.adapter(jobs[0]["configurationId"])
    adapter = adapter.wrapped  # the demo CRM itself, behind the metrics wrapper
    for record in records:
        tasks = await adapter.timeline(record["type"], record["id"])  # the demo CRM's own view
        assert [task.id for task in tasks if task.id in {j["timelineId"] for j in jobs}]
