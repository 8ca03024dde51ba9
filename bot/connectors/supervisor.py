"""Keeps the connectors that run inside the service (the Genesys Cloud subscriber) in step
with their configuration: started when set up and active, restarted when changed, stopped
when removed or deactivated, and at shutdown. A change made through this process wakes it
at once; one made by another replica is seen within ``interval`` seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.secrets import SecretBox

from ..storage.connector_tables import ConnectorRow
from .genesys_api import GenesysApi
from .genesys_subscriber import PLATFORM, GenesysSubscriber
from .inbox import ConnectorInbox
from .store import ActiveConnector

__all__ = ["ConnectorSupervisor"]

log = logging.getLogger(__name__)


class ConnectorSupervisor:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        inbox: ConnectorInbox,
        http: httpx.AsyncClient,
        *,
        interval: float = 30.0,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._inbox = inbox
        self._http = http
        self._interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: tuple[datetime | None, asyncio.Task[None]] | None = None
        self.subscriber: GenesysSubscriber | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="connector-supervisor")

    async def stop(self) -> None:
        for task in (self._task, self._running[1] if self._running else None):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._running = None

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("Genesys Cloud subscriber failed", exc_info=task.exception())
            self.wake()  # the next round starts it again

    async def _watch(self) -> None:
        while True:
            try:
                await self._reconcile()
            except Exception:  # keep supervising; the next round tries again
                log.exception("Connector supervisor round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()

    async def _reconcile(self) -> None:
        async with self._sessions() as session:
            row = await session.get(ConnectorRow, PLATFORM)
        wanted = row.updated_at if row is not None and row.status == "active" else None
        if self._running is not None:
            version, task = self._running
            if wanted is not None and version == wanted and not task.done():
                return
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._running = self.subscriber = None
            log.info("Genesys Cloud subscriber stopped")
        if wanted is None:
            return
        assert row is not None
        connector = ActiveConnector(row, self._box)
        api = GenesysApi(
            self._http,
            connector.settings,
            connector.secret("client_id") or "",
            connector.secret("client_secret") or "",
        )
        self.subscriber = GenesysSubscriber(
            api,
            self._inbox,
            connector,
            open_interactions=lambda: self._inbox.open_interactions(PLATFORM),
        )
        task = asyncio.create_task(self.subscriber.run(), name="genesys")
        task.add_done_callback(self._ended)
        self._running = (wanted, task)
        log.info("Genesys Cloud subscriber started")
