"""The events API and the probes: auth, bad input, state answers, OpenAPI."""

from __future__ import annotations

import asyncio

import pytest

from .activities import ANNA_AGENT
from .conftest import ADMIN_KEY, AUTH, follow_up, started

EVENTS = "/api/v1/interactions/events"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic cGxhdGZvcm0ta2V5LTE="},
        {"Authorization": "Bearer "},
    ],
)
async def test_events_need_a_valid_key(bot, headers):
    response = await bot.client.post(EVENTS, json=started(ANNA_AGENT), headers=headers)
    assert response.status == 401
    assert (await response.json())["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("GET", "/api/v1/configurations", "platform-key-1"),
        ("GET", "/api/v1/configurations", "metrics-key-1"),
        ("POST", EVENTS, "metrics-key-1"),
    ],
)
async def test_a_known_key_of_another_scope_is_forbidden_not_unauthorized(bot, method, path, key):
    response = await bot.client.request(
        method, path, json=started(ANNA_AGENT), headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status == 403
    body = await response.json()
    assert body["error"] == "insufficient_scope" and "lacks" in body["message"]
    assert key not in await response.text()


async def test_an_unknown_key_on_the_admin_api_stays_unauthorized(bot):
    response = await bot.client.get(
        "/api/v1/configurations", headers={"Authorization": "Bearer nobody-knows-me"}
    )
    assert response.status == 401 and (await response.json())["message"] == "Invalid API key."


async def test_admin_keys_pass_platform_endpoints(bot):
    await bot.install(ANNA_AGENT)
    status, _ = await bot.event(started(ANNA_AGENT), key=ADMIN_KEY)
    assert status == 202


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "started"}, "eventId"),
        ({**started(ANNA_AGENT), "type": "exploded"}, "type"),
        ({**started(ANNA_AGENT), "channel": "fax"}, "channel"),
        ({**started(ANNA_AGENT), "agent": {"id": 7}}, "agent.id"),
        ({**started(ANNA_AGENT), "data": ["ANI"]}, "data"),
        ({**started(ANNA_AGENT), "occurredAt": "yesterday"}, "occurredAt"),
        ({k: v for k, v in started(ANNA_AGENT).items() if k != "agent"}, "agent"),
        ([1, 2], "body"),  # the body as a whole
    ],
)
async def test_bad_fields_are_named(bot, body, field):
    response = await bot.client.post(EVENTS, json=body, headers=AUTH)
    assert response.status == 400
    answer = await response.json()
    assert answer.get("field", "") == field


async def test_bad_json_is_400(bot):
    response = await bot.client.post(
        EVENTS, data=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_json"


async def test_oversized_body_is_413(bot):
    body = started(ANNA_AGENT, **{"data": {"Transcription Text": "x" * 20_000}})
    response = await bot.client.post(EVENTS, json=body, headers=AUTH)
    assert response.status == 413

    async def chunks():  # no Content-Length: counted while reading
        for _ in range(20):
            yield b" " * 1024

    response = await bot.client.post(EVENTS, data=chunks(), headers=AUTH)
    assert response.status == 413


async def test_unknown_configuration_and_interaction_are_404(bot):
    status, body = await bot.event(started(ANNA_AGENT, configurationId="cfg-nope"))
    assert status == 404 and body["field"] == "configurationId"
    status, body = await bot.event(follow_up("never-started", "ended", endedBy="agent"))
    assert status == 404 and body["field"] == "interactionId"
    response = await bot.client.get("/api/v1/interactions/never-started", headers=AUTH)
    assert response.status == 404


async def test_agent_without_install_is_409_and_the_event_is_kept(bot):
    body = started(ANNA_AGENT)
    status, answer = await bot.event(body)
    assert status == 409 and answer["error"] == "agent_not_installed"
    response = await bot.client.get(f"/api/v1/interactions/{body['interactionId']}", headers=AUTH)
    state = await response.json()
    assert state["card"] == "waiting_for_install" and state["state"] == "started"


async def test_duplicate_event_is_acknowledged_and_ignored(bot):
    await bot.install(ANNA_AGENT)
    body = started(ANNA_AGENT)
    status, first = await bot.event(body)
    await bot.card_for(ANNA_AGENT)
    status, again = await bot.event(body)
    assert status == 202 and again["duplicate"] is True and first["duplicate"] is False
    ended = follow_up(body["interactionId"], "ended", endedBy="contact")
    await bot.event(ended)
    status, replay = await bot.event({**ended, "type": "started", "agent": {"id": "x"}})
    assert status == 202 and replay["duplicate"] and replay["state"] == "ended"
    cards = [c for c in bot.connector.posts(ANNA_AGENT.conversation_id) if c.card.get("msteams")]
    assert len(cards) == 1


async def test_state_lists_the_records(bot):
    await bot.install(ANNA_AGENT)
    body = started(ANNA_AGENT)
    await bot.event(body)
    await bot.card_for(ANNA_AGENT)
    # The message id is stored right after the connector answers the POST.
    for _ in range(250):
        response = await bot.client.get(
            f"/api/v1/interactions/{body['interactionId']}", headers=AUTH
        )
        state = await response.json()
        if state["card"] == "posted":
            break
        await asyncio.sleep(0.02)
    assert state["card"] == "posted" and state["matchOutcome"] == "one"
    assert [r["title"] for r in state["current"]] == ["Anna Schmidt"]
    assert state["current"][0]["fields"]["phone"] == "+49 30 1234567"


async def test_probes_and_openapi(bot):
    assert (await bot.client.get("/healthz")).status == 200
    ready = await bot.client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ok"
    assert (await bot.client.get("/api/v1/openapi.json")).status == 401
    document = await (await bot.client.get("/api/v1/openapi.json", headers=AUTH)).json()
    assert document["openapi"].startswith("3.1")
    post = document["paths"][EVENTS]["post"]
    assert {"202", "400", "401", "404", "409", "413"} <= set(post["responses"])
    schema = document["components"]["schemas"]["InteractionEvent"]
    assert {"eventId", "interactionId", "agent"} <= set(schema["properties"])
    assert "/api/messages" not in document["paths"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


async def test_unknown_api_path_is_json_404(bot):
    response = await bot.client.get("/api/v1/nothing-here", headers=AUTH)
    assert response.status == 404 and (await response.json())["error"] == "not_found"
