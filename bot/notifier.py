"""Proactive messages: post a card into an agent's personal chat and update it in place.

The connector is called directly, over one keep-alive HTTP session per service URL (kept
between messages, so a card costs no new TCP or TLS connection), when
the outbound token can be had without a turn: in anonymous (Emulator) mode, or when the
connection manager is given. The SDK's proactive path (``continue_conversation``) builds
a turn context, a user-token client and a connector client with a new HTTP session for
every message (a new TCP connection and a few milliseconds of CPU each); it stays the path
when neither applies.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity, Attachment, ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.authorization import Connections
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from .observability.connector_policy import ConnectorPolicy
from .observability.metrics import Metrics, count_card_operation

__all__ = ["Notifier", "card_activity", "ADAPTIVE_CARD"]

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

T = TypeVar("T")
# Keep-alive clients kept per service URL. Teams uses a handful of regional service URLs;
# beyond this many, the least recently used idle one is closed.
MAX_CLIENTS = 16


def card_activity(card: dict[str, Any], *, activity_id: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card (already a plain dict)."""
    return Activity(
        type="message", id=activity_id,
        attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
    )


class Notifier:
    """Sends and updates messages outside of a turn, from a stored conversation reference.

    ``connections``: the connection manager that mints outbound tokens (the one the adapter
    was built with); with it, or without an app id, messages go out directly (see the module
    docstring). Call :meth:`aclose` at shutdown."""

    def __init__(self, adapter: ChannelServiceAdapter, app_id: str,
                 connections: Connections | None = None, *,
                 policy: ConnectorPolicy | None = None, metrics: Metrics | None = None) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._connections = connections
        self._policy = policy or ConnectorPolicy(base_delay=0.25, max_delay=4.0)
        self._metrics = metrics
        self._direct = not app_id or connections is not None
        self._clients: dict[str, _Client] = {}

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        """Post ``activity`` as a new message in the conversation; returns its activity id."""

        async def post(connector: ConnectorClientBase, conversation_id: str) -> str:
            activity.apply_conversation_reference(ref, is_incoming=False)
            activity.reply_to_id = None  # a plain send, not a reply to the continuation
            response = await connector.conversations.send_to_conversation(
                conversation_id, activity
            )
            return response.id or ""

        ref = ConversationReference.model_validate(reference)
        with count_card_operation(self._metrics, "send"):
            return await self._run(ref, post, first=True)

    async def update(self, reference: dict[str, Any], activity_id: str,
                     activity: Activity) -> None:
        """Replace the message ``activity_id`` (PUT) with ``activity``."""

        async def put(connector: ConnectorClientBase, conversation_id: str) -> None:
            activity.apply_conversation_reference(ref, is_incoming=False)
            activity.reply_to_id = None
            activity.id = activity_id
            await connector.conversations.update_activity(conversation_id, activity_id, activity)

        ref = ConversationReference.model_validate(reference)
        with count_card_operation(self._metrics, "update"):
            await self._run(ref, put)

    async def send_card(self, reference: dict[str, Any], card: dict[str, Any]) -> str:
        return await self.send(reference, card_activity(card))

    async def update_card(self, reference: dict[str, Any], activity_id: str,
                          card: dict[str, Any]) -> None:
        await self.update(reference, activity_id, card_activity(card))

    async def aclose(self) -> None:
        """Close the keep-alive sessions (at shutdown)."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()

    async def _run(self, ref: ConversationReference,
                   operation: Callable[[ConnectorClientBase, str], Awaitable[T]], *,
                   first: bool = False) -> T:
        conversation_id = ref.conversation.id
        tenant_id = ref.conversation.tenant_id or ""
        if self._direct and ref.service_url:
            return await self._run_direct(ref.service_url, conversation_id, operation,
                                          tenant_id, first)
        result: list[T] = []

        async def callback(context: TurnContext) -> None:
            connector = context.services.get(ConnectorClientBase)
            result.append(await self._paced(operation, connector, conversation_id,
                                            tenant_id, first))

        continuation = ref.get_continuation_activity()
        if self._app_id:
            await self._adapter.continue_conversation(self._app_id, continuation, callback)
        else:
            # Anonymous (Emulator) mode: continue_conversation would ask MSAL for a tenant.
            await self._adapter.continue_conversation_with_claims(
                ClaimsIdentity({}, False), continuation, callback
            )
        return result[0]

    async def _run_direct(self, service_url: str, conversation_id: str,
                          operation: Callable[[ConnectorClientBase, str], Awaitable[T]],
                          tenant_id: str, first: bool) -> T:
        token = await self._token(service_url)
        client = self._clients.pop(service_url, None)
        if client is None:
            client = _Client(service_url)
            await self._close_idle_beyond(MAX_CLIENTS - 1)
        self._clients[service_url] = client  # most recently used last
        client.in_flight += 1
        try:
            client.authorize(token)
            return await self._paced(operation, client.connector, conversation_id,
                                     tenant_id, first)
        finally:
            client.in_flight -= 1

    async def _close_idle_beyond(self, keep: int) -> None:
        """Close the least recently used idle clients until at most ``keep`` remain."""
        for url in list(self._clients):
            if len(self._clients) <= keep:
                return
            client = self._clients[url]
            if client.in_flight == 0:
                del self._clients[url]
                await client.close()

    async def _paced(self, operation: Callable[[ConnectorClientBase, str], Awaitable[T]],
                     connector: ConnectorClientBase, conversation_id: str, tenant_id: str,
                     first: bool) -> T:
        """Within Teams' per-conversation and per-tenant rates, new cards first; 412/429/
        502/504 retried with back-off and jitter, honouring Retry-After
        (bot.observability.connector_policy)."""
        return await self._policy.run(conversation_id,
                                      lambda: operation(connector, conversation_id),
                                      tenant_id=tenant_id, first=first)

    async def _token(self, service_url: str) -> str:
        if not self._app_id or self._connections is None:
            return ""
        claims = self._adapter.create_claims_identity(self._app_id)
        provider = self._connections.get_token_provider(claims, service_url)
        return await provider.get_access_token(claims.get_token_audience(),
                                               claims.get_token_scope())


class _Client:
    """A connector client over a keep-alive session for one service URL, shared by the
    calls in flight to it."""

    def __init__(self, service_url: str) -> None:
        self.session = aiohttp.ClientSession(base_url=service_url.rstrip("/") + "/")
        self.connector = ConnectorClient(service_url, "", session=self.session)
        self.in_flight = 0

    def authorize(self, token: str) -> None:
        if len(token) > 1:
            self.session.headers["Authorization"] = f"Bearer {token}"

    async def close(self) -> None:
        await self.session.close()
