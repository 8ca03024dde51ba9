"""Proactive messages: post a card into an agent's personal chat and update it in place.

The connector is called directly, over one keep-alive HTTP session per service URL (kept
between messages, so a card costs no new TCP or TLS connection), when the outbound token
can be had without a turn: in anonymous (Emulator) mode, or when the connection manager is
given. The message goes out as the wire dict the SDK's connector client would send
(``outgoing_activity``: the stored conversation reference applied to the activity), without
building and dumping its pydantic activity model for every card: a third of the CPU of
a message. The SDK's proactive path (``continue_conversation``) builds a turn context, a
user-token client and a connector client with a new HTTP session for every message; it
stays the path when neither applies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity, Attachment, ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.authorization import Connections
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from .observability.connector_policy import ConnectorPolicy
from .observability.metrics import Metrics, count_card_operation
from .wire import dumps

__all__ = ["Notifier", "card_activity", "outgoing_activity", "ADAPTIVE_CARD"]

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

T = TypeVar("T")
Card = dict[str, Any]
# A card, or how to draw it: drawn once the rate windows have a slot for the call (a card
# that waited for the tenant's slot shows what arrived meanwhile), again on each retry.
CardSource = Card | Callable[[], Awaitable[Card]]
# Keep-alive clients kept per service URL. Teams uses a handful of regional service URLs;
# beyond this many, the least recently used idle one is closed.
MAX_CLIENTS = 16
# The SDK's connector client cuts conversation ids in URLs to this length.
_MAX_CONVERSATION_ID = 150
_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def card_activity(card: dict[str, Any], *, activity_id: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card (already a plain dict). No field is
    set to ``None``: the SDK's serializer writes set fields (see ``bot/wire.py``)."""
    activity = Activity(
        type="message", attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)]
    )
    if activity_id is not None:
        activity.id = activity_id
    return activity


def outgoing_activity(
    reference: dict[str, Any], card: dict[str, Any], *, activity_id: str | None = None
) -> dict[str, Any]:
    """The wire JSON of a card message from the agent into a stored conversation.

    The same as the SDK's ``card_activity(card)`` after ``apply_conversation_reference``
    (outgoing, no reply) dumped by alias and written through ``bot.wire.dumps``: the stored
    reference already is wire JSON (tests/bot/test_notifier.py compares the two). Absent
    values are left out, never written as ``null``."""
    body: dict[str, Any] = {"type": "message"}
    if activity_id is not None:
        body["id"] = activity_id
    body["attachments"] = [{"contentType": ADAPTIVE_CARD, "content": card}]
    for key, source in _ENVELOPE:
        value = reference.get(source)
        if value:
            body[key] = value
    return body


# Wire member of the outgoing activity <- member of the stored conversation reference.
_ENVELOPE = (
    ("channelId", "channelId"),
    ("locale", "locale"),
    ("serviceUrl", "serviceUrl"),
    ("conversation", "conversation"),
    ("from", "bot"),
    ("recipient", "user"),
)


class Notifier:
    """Sends and updates messages outside of a turn, from a stored conversation reference.

    ``connections``: the connection manager that mints outbound tokens (the one the adapter
    was built with); with it, or without an app id, messages go out directly (see the module
    docstring). Call :meth:`aclose` at shutdown."""

    def __init__(
        self,
        adapter: ChannelServiceAdapter,
        app_id: str,
        connections: Connections | None = None,
        *,
        policy: ConnectorPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._connections = connections
        self._policy = policy or ConnectorPolicy(base_delay=0.25, max_delay=4.0)
        self._metrics = metrics
        self._direct = not app_id or connections is not None
        self._clients: dict[str, _Client] = {}

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        """Post ``activity`` as a new message in the conversation; returns its activity id."""
        ref = _address(reference, activity)
        if self._direct and ref.service_url:
            return await self._send_json(
                reference, activity.model_dump(by_alias=True, exclude_unset=True, mode="json")
            )

        async def post(connector: ConnectorClientBase, conversation_id: str) -> str:
            response = await connector.conversations.send_to_conversation(conversation_id, activity)
            return response.id or ""

        with count_card_operation(self._metrics, "send"):
            return await self._run_in_turn(ref, post, first=True)

    async def update(self, reference: dict[str, Any], activity_id: str, activity: Activity) -> None:
        """Replace the message ``activity_id`` (PUT) with ``activity``."""
        ref = _address(reference, activity)
        activity.id = activity_id
        if self._direct and ref.service_url:
            await self._update_json(
                reference,
                activity_id,
                activity.model_dump(by_alias=True, exclude_unset=True, mode="json"),
            )
            return

        async def put(connector: ConnectorClientBase, conversation_id: str) -> None:
            await connector.conversations.update_activity(conversation_id, activity_id, activity)

        with count_card_operation(self._metrics, "update"):
            await self._run_in_turn(ref, put)

    async def send_card(self, reference: dict[str, Any], card: CardSource) -> str:
        """Post the card (drawn when its call has a slot, see ``CardSource``); its id."""
        if self._direct and reference.get("serviceUrl"):

            async def body() -> dict[str, Any]:
                return outgoing_activity(reference, await _drawn(card))

            return await self._send_json(reference, body)
        return await self.send(reference, card_activity(await _drawn(card)))

    async def update_card(
        self, reference: dict[str, Any], activity_id: str, card: dict[str, Any]
    ) -> None:
        if self._direct and reference.get("serviceUrl"):
            await self._update_json(
                reference, activity_id, outgoing_activity(reference, card, activity_id=activity_id)
            )
            return
        await self.update(reference, activity_id, card_activity(card))

    async def aclose(self) -> None:
        """Close the keep-alive sessions (at shutdown)."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()

    # ------------------------------------------------------------------ direct

    async def _send_json(
        self,
        reference: dict[str, Any],
        body: dict[str, Any] | Callable[[], Awaitable[dict[str, Any]]],
    ) -> str:
        conversation_id = _conversation_path(reference)

        async def post(client: _Client) -> str:
            answer = await client.call(
                "POST",
                f"v3/conversations/{conversation_id}/activities",
                body if isinstance(body, dict) else await body(),
            )
            return str(answer.get("id") or "")

        with count_card_operation(self._metrics, "send"):
            return await self._run_direct(reference, post, first=True)

    async def _update_json(
        self, reference: dict[str, Any], activity_id: str, body: dict[str, Any]
    ) -> None:
        conversation_id = _conversation_path(reference)

        async def put(client: _Client) -> None:
            await client.call(
                "PUT", f"v3/conversations/{conversation_id}/activities/{activity_id}", body
            )

        with count_card_operation(self._metrics, "update"):
            await self._run_direct(reference, put)

    async def _run_direct(
        self,
        reference: dict[str, Any],
        operation: Callable[[_Client], Awaitable[T]],
        *,
        first: bool = False,
    ) -> T:
        service_url = str(reference["serviceUrl"])
        conversation = reference["conversation"]
        token = await self._token(service_url)
        client = self._clients.pop(service_url, None)
        if client is None:
            client = _Client(service_url)
            await self._close_idle_beyond(MAX_CLIENTS - 1)
        self._clients[service_url] = client  # most recently used last
        client.in_flight += 1
        try:
            client.authorize(token)
            return await self._policy.run(
                str(conversation["id"]),
                lambda: operation(client),
                tenant_id=str(conversation.get("tenantId") or ""),
                first=first,
            )
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

    async def _token(self, service_url: str) -> str:
        if not self._app_id or self._connections is None:
            return ""
        claims = self._adapter.create_claims_identity(self._app_id)
        provider = self._connections.get_token_provider(claims, service_url)
        return await provider.get_access_token(
            claims.get_token_audience(), claims.get_token_scope()
        )

    # ------------------------------------------------------------ in a turn

    async def _run_in_turn(
        self,
        ref: ConversationReference,
        operation: Callable[[ConnectorClientBase, str], Awaitable[T]],
        *,
        first: bool = False,
    ) -> T:
        """Through the SDK's proactive path, paced like the direct one."""
        conversation_id = ref.conversation.id
        tenant_id = ref.conversation.tenant_id or ""
        result: list[T] = []

        async def callback(context: TurnContext) -> None:
            connector = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
            if connector is None:
                raise RuntimeError("The SDK's turn carries no connector client")
            result.append(
                await self._policy.run(
                    conversation_id,
                    lambda: operation(connector, conversation_id),
                    tenant_id=tenant_id,
                    first=first,
                )
            )

        continuation = ref.get_continuation_activity()
        if self._app_id:
            await self._adapter.continue_conversation(self._app_id, continuation, callback)
        else:
            # Anonymous (Emulator) mode: continue_conversation would ask MSAL for a tenant.
            await self._adapter.continue_conversation_with_claims(
                ClaimsIdentity({}), continuation, callback
            )
        return result[0]


async def _drawn(card: CardSource) -> Card:
    return card if isinstance(card, dict) else await card()


def _address(reference: dict[str, Any], activity: Activity) -> ConversationReference:
    """Address ``activity`` from the bot into the stored conversation, as a plain message
    (not a reply to the continuation); the reference, parsed."""
    # Without the continuation's activity id, so that no reply_to_id is set (not set to None).
    ref = ConversationReference.model_validate(
        {key: value for key, value in reference.items() if key != "activityId"}
    )
    activity.apply_conversation_reference(ref, is_incoming=False)
    return ref


def _conversation_path(reference: dict[str, Any]) -> str:
    return str(reference["conversation"]["id"])[:_MAX_CONVERSATION_ID]


class _Client:
    """Calls to one service URL over a keep-alive session, shared by the calls in flight."""

    def __init__(self, service_url: str) -> None:
        self.session = aiohttp.ClientSession(base_url=service_url.rstrip("/") + "/")
        self.in_flight = 0

    def authorize(self, token: str) -> None:
        if len(token) > 1:
            self.session.headers["Authorization"] = f"Bearer {token}"

    async def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send ``body`` as JSON; the answer's JSON object. A status other than 200-202
        raises ``aiohttp.ClientResponseError`` (with the headers: Retry-After), as the
        SDK's client does; the connection policy retries the retryable ones."""
        async with self.session.request(method, path, data=dumps(body), headers=_JSON) as response:
            text = await response.text("utf-8")
            if response.status not in (200, 201, 202):
                log.error(
                    "Bot Connector %s %s answered %s", method, path.split("/")[0], response.status
                )
                raise aiohttp.ClientResponseError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    message=text[:500] or response.reason or "",
                    headers=response.headers,
                )
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    async def close(self) -> None:
        await self.session.close()
