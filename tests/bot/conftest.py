"""Fixtures: the service over real HTTP with a fake Bot Connector as every activity's serviceUrl."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.settings import Settings

from .activities import User, install
from .connector import FakeConnector

PLATFORM_KEY = "platform-key-1"
ADMIN_KEY = "admin-key-1"
METRICS_KEY = "metrics-key-1"
AUTH = {"Authorization": f"Bearer {PLATFORM_KEY}"}
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_KEY}"}


def make_settings(tmp_path, database_url: str, **overrides: Any) -> Settings:  # type: ignore[no-untyped-def]
    values: dict[str, Any] = dict(
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        demo_crm_url=f"sqlite+aiosqlite:///{tmp_path / 'demo-crm.db'}",
        api_keys=PLATFORM_KEY,
        admin_api_keys=ADMIN_KEY,
        metrics_api_keys=METRICS_KEY,
        max_body_bytes=16 * 1024,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Bot:
    """The running service and helpers a test drives it with."""

    client: TestClient
    connector: FakeConnector
    service_url: str

    async def activity(self, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
        response = await self.client.post("/api/messages", json=body, headers=headers)
        text = await response.text()
        return response.status, (await response.json() if text else None)

    async def install(self, user: User, **kw: Any) -> None:
        self.connector.members[user.teams_id] = user.member()
        status, _ = await self.activity(install(self.service_url, user, **kw))
        assert status in (200, 202)

    async def event(self, body: dict[str, Any], key: str = PLATFORM_KEY) -> tuple[int, Any]:
        response = await self.client.post(
            "/api/v1/interactions/events", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        return response.status, await response.json()

    async def card_for(self, user: User, count: int = 1) -> dict[str, Any]:
        """The ``count``-th Customer Card posted into ``user``'s chat (waits for it)."""
        calls = await self.connector.wait_for(
            lambda calls: [
                c
                for c in calls
                if c.method == "POST"
                and c.card
                and c.conversation_id == user.conversation_id
                and c.card.get("msteams")
            ][count - 1 : count]
        )
        return calls[0].card


# The connector comes first so it is torn down last, after the app has drained its
# background card updates.
@pytest.fixture
async def make_bot(
    connector, service_url, aiohttp_client, tmp_path, database_url
) -> Callable[..., Awaitable[Bot]]:  # type: ignore[no-untyped-def]
    async def make(**overrides: Any) -> Bot:
        app = create_app(make_settings(tmp_path, database_url, **overrides))
        client = await aiohttp_client(TestServer(app))
        return Bot(client, connector, service_url)

    return make


@pytest.fixture
async def bot(make_bot) -> Bot:  # type: ignore[no-untyped-def]
    return await make_bot()


def started(
    agent: User | dict[str, Any],
    *,
    number: str = "+49 30 1234567",
    channel: str = "voice",
    **extra: Any,
) -> dict[str, Any]:
    interaction_id = extra.pop("interactionId", f"ix-{uuid.uuid4().hex[:8]}")
    agent_json = (
        agent
        if isinstance(agent, dict)
        else {"id": "cx-agent-" + agent.teams_id[-1], "name": agent.name, "aadObjectId": agent.aad}
    )
    data = (
        {"ANI": number, "DNIS": "+49 30 9990000", "Skill Name": "Support DE"}
        if channel == "voice"
        else {"From": number, "Skill Name": "Chat DE"}
    )
    return {
        "type": "started",
        "eventId": f"ev-{uuid.uuid4().hex}",
        "interactionId": interaction_id,
        "contactId": "c-" + interaction_id,
        "channel": channel,
        "agent": agent_json,
        "data": data,
        "scriptVariables": {"Lang": "de"},
        "occurredAt": "2025-01-01T10:00:00Z",
        **extra,
    }


def follow_up(interaction_id: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "eventId": f"ev-{uuid.uuid4().hex}",
        "interactionId": interaction_id,
        "channel": "voice",
        **extra,
    }
