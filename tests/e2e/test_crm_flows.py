"""A whole call through the running service, once per CRM: an admin points a configuration
at the CRM's simulator (admin API), an agent installs the app, the platform posts
``started`` -> the card shows the caller's record from that CRM -> the agent unpins and
pins it again -> the call ends with after-call work -> the mapped field and one timeline
activity land in the simulator.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.bot.activities import ANNA_AGENT, card_action
from tests.bot.cardtools import pin_targets, texts
from tests.bot.conftest import (
    ADMIN_KEY,
    AUTH,
    Bot,
    follow_up,
    make_settings,
    started,
)
from tests.crm.dataset import ANI_ONE_MATCH
from tests.memorialization.helpers import api_jobs, api_settled

from .simulated_crms import CRM_TYPES, START, SimulatedCrm

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
CALLER = "Anna Schmidt"
NOTES = "Rechnung 4711 erklärt, Gutschrift zugesagt."

# Retries and lease short enough that a slow first attempt cannot stall the test.
FAST_WORKER = dict(
    memorialization_backoff_base_seconds=0.01,
    memorialization_backoff_max_seconds=0.05,
    memorialization_lease_seconds=5,
    memorialization_grace_seconds=1,
    memorialization_rate_per_second=100,
    crm_timeout_seconds=5,
)


@pytest.fixture(params=CRM_TYPES)
async def crm(request, aiohttp_server, tmp_path) -> AsyncIterator[SimulatedCrm]:
    simulated = await START[request.param](aiohttp_server, tmp_path)
    yield simulated
    if simulated.close is not None:
        await simulated.close()


# The connector comes first so it is torn down last, after the app has sent its cards.
@pytest.fixture
async def bot(
    connector,
    service_url,
    crm,
    aiohttp_client,
    tmp_path,
    sqlite_url,
) -> Bot:
    app = create_app(make_settings(tmp_path, sqlite_url, **FAST_WORKER))
    return Bot(await aiohttp_client(TestServer(app)), connector, service_url)


async def _admin(bot: Bot, method: str, path: str, body: Any = None) -> Any:
    response = await bot.client.request(method, path, json=body, headers=ADMIN)
    answer = await response.json()
    assert response.status in (200, 201), (method, path, answer)
    return answer


async def _configure(bot: Bot, crm: SimulatedCrm) -> str:
    """The admin's part: a configuration on the simulator and its memorialization mapping."""
    created = await _admin(
        bot,
        "POST",
        "/api/v1/configurations",
        {
            "name": f"{crm.type} (simulator)",
            "type": crm.type,
            "settings": crm.settings,
            "secrets": crm.secrets,
        },
    )
    mapping = await _admin(
        bot,
        "POST",
        f"/api/v1/configurations/{created['id']}/data-mappings",
        {
            "name": "Call notes",
            "recordTypes": [
                {
                    "recordType": crm.contact_type,
                    "fields": [
                        {
                            "crmField": crm.text_field,
                            "source": {"channel": "voice", "field": "Disposition Notes"},
                        }
                    ],
                }
            ],
        },
    )
    assert mapping["status"] == "active"
    return str(created["id"])


async def _pinned(bot: Bot, interaction_id: str) -> list[dict[str, Any]]:
    response = await bot.client.get(f"/api/v1/interactions/{interaction_id}", headers=AUTH)
    assert response.status == 200
    return (await response.json())["current"]  # type: ignore[no-any-return]


async def test_call_flow_lands_in_the_crm(bot: Bot, crm: SimulatedCrm) -> None:
    config_id = await _configure(bot, crm)
    await bot.install(ANNA_AGENT)

    # started -> the card shows the caller's record from this CRM, pinned
    body = started(ANNA_AGENT, number=ANI_ONE_MATCH, configurationId=config_id)
    interaction_id = body["interactionId"]
    status, state = await bot.event(body)
    assert status == 202, state
    card = await bot.card_for(ANNA_AGENT)
    assert CALLER in texts(card)
    assert "One matching CRM record was found and pinned." in texts(card)
    [record] = await _pinned(bot, interaction_id)
    assert record["type"] == crm.contact_type
    raw = await crm.stored(record["id"])
    assert raw is not None and all(name in json.dumps(raw) for name in CALLER.split())

    # unpin, then pin again: each answers with the card and updates the message in place
    anna = pin_targets(card, "unpin")[CALLER]
    status, answer = await bot.activity(card_action(bot.service_url, ANNA_AGENT, "unpin", anna))
    assert status == 200 and CALLER not in pin_targets(answer["value"], "unpin")
    assert await _pinned(bot, interaction_id) == []
    again = pin_targets(answer["value"])[CALLER]
    status, answer = await bot.activity(card_action(bot.service_url, ANNA_AGENT, "pin", again))
    assert status == 200 and CALLER in pin_targets(answer["value"], "unpin")
    await bot.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "PUT" and c.card and CALLER in pin_targets(c.card, "unpin")
        ]
    )
    assert [r["id"] for r in await _pinned(bot, interaction_id)] == [record["id"]]

    # the call ends with after-call work announced: nothing is written yet
    status, state = await bot.event(
        follow_up(interaction_id, "ended", endedBy="agent", data={"ACW": True})
    )
    assert status == 202, state
    assert await api_jobs(bot, interaction_id) == []
    status, state = await bot.event(
        follow_up(
            interaction_id,
            "acw_completed",
            data={"Disposition Name": "Resolved", "Disposition Notes": NOTES},
        )
    )
    assert status == 202, state

    [job] = await api_settled(bot, interaction_id)
    assert (job["status"], job["lastError"]) == ("done", None), job
    assert (job["recordType"], job["recordId"]) == (crm.contact_type, record["id"])
    raw = await crm.stored(record["id"])
    assert raw is not None and crm.field_of(raw) == NOTES
    [activity] = await crm.timeline_for(record["id"])
    shown = json.dumps(activity, default=str, ensure_ascii=False)
    assert interaction_id in shown and NOTES in shown
