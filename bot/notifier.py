"""Proactive messages: post a card into an agent's personal chat and update it in place."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity, Attachment, ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase

__all__ = ["Notifier", "card_activity", "ADAPTIVE_CARD"]

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# The connector asks us to back off with these (teams-platform.md: rate limits).
_RETRY_STATUSES = frozenset({412, 429, 502, 504})
_ATTEMPTS = 4

T = TypeVar("T")


def card_activity(card: dict[str, Any], *, activity_id: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card (already a plain dict)."""
    return Activity(
        type="message", id=activity_id,
        attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
    )


class Notifier:
    """Sends and updates messages outside of a turn, from a stored conversation reference."""

    def __init__(self, adapter: ChannelServiceAdapter, app_id: str) -> None:
        self._adapter = adapter
        self._app_id = app_id

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
        return await self._run(ref, post)

    async def update(self, reference: dict[str, Any], activity_id: str,
                     activity: Activity) -> None:
        """Replace the message ``activity_id`` (PUT) with ``activity``."""

        async def put(connector: ConnectorClientBase, conversation_id: str) -> None:
            activity.apply_conversation_reference(ref, is_incoming=False)
            activity.reply_to_id = None
            activity.id = activity_id
            await connector.conversations.update_activity(conversation_id, activity_id, activity)

        ref = ConversationReference.model_validate(reference)
        await self._run(ref, put)

    async def send_card(self, reference: dict[str, Any], card: dict[str, Any]) -> str:
        return await self.send(reference, card_activity(card))

    async def update_card(self, reference: dict[str, Any], activity_id: str,
                          card: dict[str, Any]) -> None:
        await self.update(reference, activity_id, card_activity(card))

    async def _run(self, ref: ConversationReference,
                   operation: Callable[[ConnectorClientBase, str], Awaitable[T]]) -> T:
        conversation_id = ref.conversation.id
        result: list[T] = []

        async def callback(context: TurnContext) -> None:
            connector = context.services.get(ConnectorClientBase)
            for attempt in range(_ATTEMPTS):
                try:
                    result.append(await operation(connector, conversation_id))
                    return
                except aiohttp.ClientResponseError as exc:
                    if exc.status not in _RETRY_STATUSES or attempt == _ATTEMPTS - 1:
                        raise
                    delay = _backoff(attempt, exc.headers.get("Retry-After") if exc.headers
                                     else None)
                    log.info("Connector answered %s; retrying in %.2fs", exc.status, delay)
                    await asyncio.sleep(delay)

        continuation = ref.get_continuation_activity()
        if self._app_id:
            await self._adapter.continue_conversation(self._app_id, continuation, callback)
        else:
            # Anonymous (Emulator) mode: continue_conversation would ask MSAL for a tenant.
            await self._adapter.continue_conversation_with_claims(
                ClaimsIdentity({}, False), continuation, callback
            )
        return result[0]


def _backoff(attempt: int, retry_after: str | None) -> float:
    if retry_after:
        try:
            return min(float(retry_after), 30.0)
        except ValueError:
            pass
    return min(0.25 * 2**attempt, 4.0) * (0.5 + random.random())
