"""A local stand-in of Genesys Cloud's login, Notification API and the REST calls the
subscriber makes: client-credentials tokens (Basic), channels with a WebSocket each,
subscriptions, users and conversations; the test pushes notifications, heartbeats and the
socket-closing notice, or drops the socket."""

from __future__ import annotations

import base64
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CLIENT_ID = "genesys-client-0001"
CLIENT_SECRET = "genesys-secret-0001"


@dataclass
class GenesysSim:
    users: dict[str, dict[str, Any]]
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, list[str]] = field(default_factory=dict)  # channel -> topics
    sockets: dict[str, web.WebSocketResponse] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    fail_channels: int = 0  # channel creations to refuse (503) before succeeding
    base: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self._token)
        app.router.add_post("/api/v2/notifications/channels", self._channel)
        app.router.add_put("/api/v2/notifications/channels/{id}/subscriptions", self._subscribe)
        app.router.add_get("/api/v2/users/{id}", self._user)
        app.router.add_get("/api/v2/conversations/calls/{id}", self._conversation)
        app.router.add_get("/channels/{id}", self._socket)
        return app

    @property
    def channel(self) -> str:
        """The newest channel with a socket."""
        return list(self.sockets)[-1]

    async def push(self, user_id: str, conversation: dict[str, Any]) -> None:
        self.conversations[conversation["id"]] = conversation
        topic = f"v2.users.{user_id}.conversations.calls"
        assert topic in self.subscriptions[self.channel]
        await self.sockets[self.channel].send_json(
            {
                "topicName": topic,
                "version": "2",
                "eventBody": conversation,
                "metadata": {"CorrelationId": str(uuid.uuid4())},
            }
        )

    async def heartbeat(self) -> None:
        await self.sockets[self.channel].send_json(
            {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
        )

    async def close_channel(self) -> None:
        """Genesys' notice before it closes a channel, then the close."""
        socket = self.sockets[self.channel]
        await socket.send_json(
            {"topicName": "v2.system.socket_closing", "eventBody": {"message": "Socket closing"}}
        )
        await socket.close()

    async def drop(self) -> None:
        await self.sockets[self.channel].close()

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token in self.tokens

    async def _token(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = await request.post()
        if (
            request.headers.get("Authorization") != f"Basic {expected}"
            or form.get("grant_type") != "client_credentials"
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"token-{next(self._ids)}"
        self.tokens.add(token)
        return web.json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": 86399}
        )

    async def _channel(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"status": 401}, status=401)
        if self.fail_channels:
            self.fail_channels -= 1
            return web.json_response({"status": 503, "code": "service.unavailable"}, status=503)
        channel = f"streaming-{next(self._ids)}"
        self.subscriptions[channel] = []
        uri = self.base.replace("http://", "ws://") + f"/channels/{channel}"
        return web.json_response(
            {"connectUri": uri, "id": channel, "expires": "2030-01-01T00:00:00.000Z"}
        )

    async def _subscribe(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"status": 401}, status=401)
        topics = [item["id"] for item in await request.json()]
        self.subscriptions[request.match_info["id"]] = topics
        return web.json_response({"entities": [{"id": topic} for topic in topics]})

    async def _user(self, request: web.Request) -> web.Response:
        user = self.users.get(request.match_info["id"])
        if not self._authorized(request) or user is None:
            return web.json_response({"status": 404}, status=404 if user is None else 401)
        return web.json_response(user)

    async def _conversation(self, request: web.Request) -> web.Response:
        conversation = self.conversations.get(request.match_info["id"])
        if not self._authorized(request) or conversation is None:
            return web.json_response({"status": 404}, status=404)
        return web.json_response(conversation)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        channel = request.match_info["id"]
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets[channel] = socket
        async for _ in socket:  # the client sends nothing but pings
            pass
        return socket
