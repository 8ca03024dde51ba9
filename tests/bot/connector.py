"""A fake Bot Connector on 127.0.0.1: records what the bot sends and answers the member API."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def null_member(value: Any, path: str = "$") -> str | None:
    """The path of the first JSON ``null`` member in ``value``, or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = f"{path}.{key}" if item is None else null_member(item, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = null_member(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


_ADAPTIVE = "application/vnd.microsoft.card.adaptive"
_CARDS = (_ADAPTIVE, "application/vnd.microsoft.card.hero")
_ENUMS = {
    "textFormat": ("markdown", "plain", "xml"),
    "attachmentLayout": ("list", "carousel"),
}
_STRINGS = ("id", "replyToId", "channelId", "text")


def shape_problem(method: str, body: Any) -> str | None:
    """Why the Playground would refuse this create (POST) or update (PUT) of an activity,
    or None. The rules of ``@microsoft/m365agentsplayground`` 0.2.28's connector contract
    (``createActivitySchema``, ``updateMessageActivitySchema``, ``attachmentSchema`` and
    ``assertEmptyMessageBody`` in its dist/index.js), which answers them with 400."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if (path := null_member(body)) is not None:
        return f"null at {path}"  # zod's optional() takes a missing member, never null
    kinds = ("message",) if method == "PUT" else ("message", "typing", "trace")
    if body.get("type") not in kinds:
        return f"type {body.get('type')!r} is not one of {kinds}"
    for name in _STRINGS:
        if name in body and not isinstance(body[name], str):
            return f"{name} is not a string"
    for name, allowed in _ENUMS.items():
        if name in body and body[name] not in allowed:
            return f"{name} {body[name]!r} is not one of {allowed}"
    attachments = body.get("attachments", [])
    if not isinstance(attachments, list):
        return "attachments is not a list"
    for index, attachment in enumerate(attachments):
        if not isinstance(attachment, dict) or not isinstance(attachment.get("contentType"), str):
            return f"attachments[{index}] has no contentType"
        if attachment["contentType"] in _CARDS and not isinstance(attachment.get("content"), dict):
            return f"attachments[{index}].content is not an object"
    if any(
        not isinstance(e, dict) or not isinstance(e.get("type"), str)
        for e in body.get("entities", [])
    ):
        return "an entity has no type"
    if method == "POST" and body["type"] == "message" and "text" not in body and not attachments:
        return "a message needs text or an attachment"
    return None


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any] | None
    authorization: str | None

    @property
    def conversation_id(self) -> str:
        return self.path.split("/")[3]

    @property
    def card(self) -> dict[str, Any] | None:
        """The Adaptive Card the call carries, if any."""
        for attachment in (self.body or {}).get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, why
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> profile
    fail_next: list[int] = field(default_factory=list)  # statuses to answer before success
    retry_after: str = "0"  # the Retry-After of those answers (seconds)
    # a test that sends what the Playground refuses on purpose says so (else teardown fails)
    refusals_expected: bool = False
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._put)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self._member)
        return app

    async def _record(self, request: web.Request) -> web.Response | None:
        body = await request.json() if request.can_read_body else None
        if (
            request.method in ("POST", "PUT")
            and (problem := shape_problem(request.method, body)) is not None
        ):
            message = f"Invalid input: {problem}"  # as the Playground refuses it
            self.rejected.append((request.method, request.path, message))
            return web.json_response(
                {"error": {"code": "BadArgument", "message": message}}, status=400
            )
        if self.fail_next:
            return web.json_response(
                {"error": {"code": "Throttled"}},
                status=self.fail_next.pop(0),
                headers={"Retry-After": self.retry_after},
            )
        self.calls.append(
            Call(request.method, request.path, body, request.headers.get("Authorization"))
        )
        await self._notify()
        return None

    async def _post(self, request: web.Request) -> web.Response:
        failed = await self._record(request)
        return failed or web.json_response({"id": f"act-{next(self._ids)}"}, status=201)

    async def _put(self, request: web.Request) -> web.Response:
        failed = await self._record(request)
        return failed or web.json_response({"id": request.match_info["aid"]})

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["uid"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member)

    async def _notify(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[Call]], Any], seconds: float = 10) -> Any:
        """Wait until ``predicate(calls)`` is truthy (the bot works in the background)."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with asyncio.timeout(seconds):
            async with self._changed:
                while not (result := predicate(self.calls)):
                    await self._changed.wait()
        return result

    def posts(self, conversation_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "POST"
            and (conversation_id is None or c.conversation_id == conversation_id)
        ]

    def puts(self, conversation_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "PUT"
            and (conversation_id is None or c.conversation_id == conversation_id)
        ]

    def cards(self, conversation_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.card is not None
            and (conversation_id is None or c.conversation_id == conversation_id)
        ]
