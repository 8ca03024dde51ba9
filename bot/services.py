"""The service container the aiohttp app keeps at ``app[SERVICES]``.

``create_app`` builds it with the settings; the other members are filled in at start-up
(after migrations), so handlers and other helpers reach everything through one object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .settings import Settings

if TYPE_CHECKING:
    import httpx
    from microsoft_agents.hosting.aiohttp import CloudAdapter
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from .crm_directory import CrmDirectory
    from .interactions.cardsync import CardSync
    from .interactions.service import InteractionService
    from .notifier import Notifier
    from .teams.bot import TeamsBot

__all__ = ["Services", "SERVICES"]


@dataclass
class Services:
    """Everything a request handler needs. Members other than ``settings`` exist once the
    app has started (``create_app``'s start-up step sets them)."""

    settings: Settings
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    read_sessions: async_sessionmaker[AsyncSession] = field(init=False)  # reads only
    http: httpx.AsyncClient = field(init=False)
    directory: CrmDirectory = field(init=False)
    notifier: Notifier = field(init=False)
    interactions: InteractionService = field(init=False)
    card_sync: CardSync = field(init=False)
    adapter: CloudAdapter = field(init=False)
    bot: TeamsBot = field(init=False)
    # free slots for components wired in by other modules (workers, workflow engine, ...)
    extras: dict[str, Any] = field(default_factory=dict)


SERVICES = web.AppKey("services", Services)
