"""The Genesys Cloud Notification API subscriber: one WebSocket channel, kept up.

Each session: log in (client credentials), create a channel, subscribe the configured
users' or queues' conversation topics, connect to the channel's WebSocket, then catch up
(read every conversation still open on the platform's REST API: what changed while no
socket was up arrives that way) and follow the notifications. The session ends on
``v2.system.socket_closing`` (Genesys closes channels after 24 hours), on a closed
socket, or when neither a notification nor the 30-second heartbeat came within
``heartbeat_timeout``; the next session starts at once, after a failure with exponential
back-off (tenacity). Events have ids derived from the conversation's state
(:mod:`.genesys`), so what a catch-up reads again is a duplicate: nothing is lost or
applied twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from crm.errors import AppError

from .genesys import agent_user_ids, topic_names, translate_conversation
from .genesys_api import GenesysApi
from .inbox import ConnectorInbox
from .store import ActiveConnector

__all__ = ["GenesysSubscriber", "PLATFORM"]

log = logging.getLogger(__name__)

PLATFORM = "genesys-cloud"
_HEARTBEAT = "channel.metadata"
_CLOSING = "v2.system.socket_closing"
_RETRIED = (AppError, aiohttp.ClientError, TimeoutError, OSError, ValueError, KeyError)


class GenesysSubscriber:
    """Runs until cancelled."""

    def __init__(
        self,
        api: GenesysApi,
        inbox: ConnectorInbox,
        connector: ActiveConnector,
        *,
        open_interactions: Callable[[], Awaitable[list[str]]],
    ) -> None:
        self._api = api
        self._inbox = inbox
        self._connector = connector
        self._open_interactions = open_interactions
        settings = connector.settings
        self._topics = set(topic_names(settings.topics, list(settings.ids)))
        self._idle = float(settings.heartbeat_timeout)
        self.sessions = 0  # channels opened
        self.handled = 0  # conversation states taken in
        self.connected = asyncio.Event()

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                retrying = AsyncRetrying(
                    retry=retry_if_exception_type(_RETRIED),
                    wait=wait_exponential_jitter(multiplier=0.5, max=30),
                    before_sleep=lambda state: log.warning(
                        "Genesys Cloud channel failed (%s); reconnecting",
                        type(state.outcome.exception()).__name__ if state.outcome else "?",
                    ),
                )
                await retrying(self._session, session)

    async def _session(self, session: aiohttp.ClientSession) -> None:
        self.connected.clear()
        channel_id, uri = await self._api.create_channel()
        await self._api.subscribe(channel_id, sorted(self._topics))
        async with session.ws_connect(uri) as socket:
            self.sessions += 1
            log.info(
                "Genesys Cloud channel %s subscribed (%d topics)", channel_id, len(self._topics)
            )
            await self._catch_up()
            self.connected.set()
            while True:
                message = await asyncio.wait_for(socket.receive(), timeout=self._idle)
                if message.type != aiohttp.WSMsgType.TEXT:
                    log.info("Genesys Cloud channel %s closed (%s)", channel_id, message.type.name)
                    return
                notification = json.loads(message.data)
                topic = notification.get("topicName")
                if topic == _CLOSING:
                    log.info("Genesys Cloud closes channel %s; opening a new one", channel_id)
                    return
                if topic in self._topics and isinstance(notification.get("eventBody"), dict):
                    await self.handle(notification["eventBody"])
                elif topic != _HEARTBEAT:
                    log.debug("Genesys Cloud notification on %s ignored", topic)

    async def _catch_up(self) -> None:
        for conversation_id in await self._open_interactions():
            conversation = await self._api.conversation(conversation_id)
            if conversation:
                await self.handle(conversation)

    async def handle(self, conversation: dict[str, Any]) -> None:
        """One conversation's state in: its events to the inbox."""
        emails: dict[str, str] = {}
        for user_id in agent_user_ids(conversation):
            email = await self._api.user_email(user_id)
            if email:
                emails[user_id] = email
        events = translate_conversation(conversation, emails)
        try:
            await self._inbox.deliver(self._connector, events)
        except AppError as exc:  # stored events stay pending; the next change retries
            log.warning("Genesys Cloud conversation %s: %s", conversation.get("id"), exc.code)
        self.handled += 1
