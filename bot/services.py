"""The service container the aiohttp app keeps at ``app[SERVICES]``.

Built whole at start-up (:func:`bot.startup.build_services`, after the migrations): every
member exists from the moment the container does, so request handlers reach everything
through one object and nothing is filled in later.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .configurations import ConfigurationStore
from .connectors import ConnectorInbox, ConnectorStore
from .connectors.supervisor import ConnectorSupervisor
from .crm_directory import CrmDirectory
from .interactions.actions import AgentActions
from .interactions.changes import InteractionChanges
from .interactions.crm_access import CrmAccess
from .interactions.delivery import CardDelivery
from .interactions.record_forms import RecordForms
from .interactions.service import InteractionService
from .memorialization.worker import MemorializationWorker
from .notifier import Notifier
from .settings import Settings
from .teams.bot import TeamsBot

__all__ = ["Services", "SERVICES"]


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a request handler needs, from the app's start until its shutdown."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]  # reads only
    http: httpx.AsyncClient
    directory: CrmDirectory
    configurations: ConfigurationStore
    connectors: ConnectorStore
    inbox: ConnectorInbox  # platform events in, once and in order
    connector_supervisor: ConnectorSupervisor  # the Genesys Cloud subscriber
    notifier: Notifier
    crm: CrmAccess
    changes: InteractionChanges
    delivery: CardDelivery
    interactions: InteractionService
    actions: AgentActions
    forms: RecordForms
    memorialization: MemorializationWorker
    adapter: CloudAdapter
    bot: TeamsBot


SERVICES = web.AppKey("services", Services)
