"""What the benchmarks send and receive: Teams activities and interaction events as the
service gets them, and a light fake Bot Connector that notes the cards it is sent (lighter
than the tests' ``FakeConnector``, which keeps every card: the benchmarks run it in the
measured process or next to it)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

__all__ = ["BenchConnector", "activity", "card_action", "started_event"]


class BenchConnector:
    """Counts card posts (POST) and updates (PUT); with ``note_posted``, also notes when each
    interaction's first card arrived (``posted``: interaction id -> perf_counter time)."""

    def __init__(self, *, note_posted: bool = False) -> None:
        self.posts = 0
        self.puts = 0
        self.posted: dict[str, float] = {}
        self.last_request = time.perf_counter()
        self._note_posted = note_posted
        self._changed = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/v3/conversations/{cid}/activities{tail:.*}", self.activity)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self.member)
        return app

    async def wait_until(self, condition: Callable[[], bool], seconds: float) -> bool:
        """Wait (at most ``seconds``) for a request after which ``condition()`` holds."""
        deadline = time.perf_counter() + seconds
        while not condition():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return condition()
        return True

    async def activity(self, request: web.Request) -> web.Response:
        body = await request.json() if self._note_posted else await request.read()
        now = self.last_request = time.perf_counter()
        if request.method == "PUT":
            self.puts += 1
        else:
            self.posts += 1
            if self._note_posted:
                self._note(body, now)
        self._changed.set()
        return web.json_response({"id": f"a{self.posts + self.puts}"}, status=201)

    def _note(self, body: dict[str, Any], now: float) -> None:
        for attachment in body.get("attachments") or []:
            refresh = (attachment.get("content") or {}).get("refresh") or {}
            interaction = (refresh.get("action") or {}).get("data", {}).get("interactionId")
            if interaction:
                self.posted.setdefault(interaction, now)

    async def member(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        return web.json_response({"id": uid, "name": uid, "email": f"{uid[3:]}@bench.example"})


def activity(
    service_url: str, agent: int, type_: str, *, tenants: int = 1, **extra: Any
) -> dict[str, Any]:
    """A Teams activity from agent number ``agent`` in their personal chat with the bot; the
    agents are spread over ``tenants`` Teams tenants."""
    return {
        "type": type_,
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "locale": "en-US",
        "from": {"id": f"29:agent{agent}", "aadObjectId": f"aad-{agent}"},
        "recipient": {"id": "28:bot"},
        "conversation": {
            "id": f"a:conv{agent}",
            "conversationType": "personal",
            "tenantId": f"tenant-{agent % tenants}",
        },
        **extra,
    }


def card_action(
    service_url: str,
    agent: int,
    verb: str,
    interaction_id: str,
    record: dict[str, Any],
    *,
    tenants: int = 1,
) -> dict[str, Any]:
    """The invoke a card button (``pin``, ``unpin``) sends for a record of the interaction's
    state (``{"type": ..., "id": ...}``)."""
    return activity(
        service_url,
        agent,
        "invoke",
        tenants=tenants,
        name="adaptiveCard/action",
        value={
            "action": {
                "type": "Action.Execute",
                "verb": verb,
                "data": {
                    "verb": verb,
                    "interactionId": interaction_id,
                    "recordType": record["type"],
                    "recordId": record["id"],
                },
            }
        },
    )


def started_event(interaction_id: str, agent_id: str, agent: int) -> dict[str, Any]:
    """A voice interaction's ``started`` event for agent number ``agent`` (a caller number
    the demo CRM knows)."""
    return {
        "type": "started",
        "eventId": uuid.uuid4().hex,
        "interactionId": interaction_id,
        "contactId": interaction_id,
        "channel": "voice",
        "agent": {"id": agent_id, "aadObjectId": f"aad-{agent}"},
        "data": {"ANI": "+49 30 1234567", "Skill Name": "Bench"},
    }
