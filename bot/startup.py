"""Building the services whole at start-up, in dependency order, and closing them at
shutdown: the one place that knows how the parts fit together.

Layers, top to bottom (module imports go down only): ``app``/``startup`` -> ``api`` ->
``services`` -> ``teams`` -> ``interactions`` and ``memorialization`` -> ``storage``,
``notifier``, ``crm_directory`` (and the ``crm``/``cards`` packages).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

import httpx
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import OutboundHostValidator
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, Connections
from sqlalchemy.engine import make_url

from .configurations import ConfigurationStore
from .connectors import ConnectorInbox, ConnectorStore
from .connectors.supervisor import ConnectorSupervisor
from .crm_directory import CrmDirectory
from .interactions.actions import AgentActions
from .interactions.changes import InteractionChanges
from .interactions.crm_access import CrmAccess
from .interactions.delivery import CardDelivery
from .interactions.lookup import CallerLookup
from .interactions.record_forms import RecordForms
from .interactions.service import InteractionService
from .interactions.views import CardViews
from .memorialization.hook import MemorializationHook
from .memorialization.worker import MemorializationWorker, WorkerOptions
from .notifier import Notifier
from .observability.connector_policy import PER_TENANT, ConnectorPolicy
from .observability.metrics import Metrics
from .services import Services
from .settings import Settings
from .storage.db import create_engine, read_session_factory, session_factory, upgrade_database
from .teams.bot import TeamsBot
from .wire import WireClientFactory

__all__ = [
    "build_services",
    "close_services",
    "log_storage",
    "running_services",
    "safe_database_url",
]

log = logging.getLogger(__name__)


def build_services(
    settings: Settings,
    *,
    auth: AgentAuthConfiguration,
    connections: Connections | None = None,
    metrics: Metrics | None = None,
    app_rate: tuple[int, float] = PER_TENANT,
) -> Services:
    """Every part, each handed its collaborators. ``connections`` mints the outbound Bot
    Connector tokens (default: MSAL with ``auth``); ``app_rate``: this process's share of
    Teams' per-tenant rate."""
    engine = create_engine(settings.effective_database_url)
    sessions, read_sessions = session_factory(engine), read_session_factory(engine)
    http = httpx.AsyncClient(timeout=settings.crm_timeout_seconds)
    directory = CrmDirectory(sessions, settings, http, metrics=metrics)
    adapter, connections = _bot_adapter(settings, auth, connections)
    notifier = Notifier(
        adapter,
        settings.app_id,
        connections=connections,
        policy=ConnectorPolicy(
            app_rate=app_rate,
            base_delay=0.25,
            max_delay=4.0,
            on_retry=metrics.count_connector_retry if metrics else None,
        ),
        metrics=metrics,
    )
    # the card: event -> look-up -> view -> card -> post/update
    changes = InteractionChanges()
    crm = CrmAccess(directory, settings)
    views = CardViews(crm, directory)
    lookup = CallerLookup(sessions=sessions, crm=crm, directory=directory, changes=changes)
    delivery = CardDelivery(
        sessions=sessions,
        read_sessions=read_sessions,
        changes=changes,
        lookup=lookup,
        views=views,
        notifier=notifier,
        window=settings.card_window_ms / 1000,
    )
    # the durable CRM writer: a failed (or recovered) job changes the card's note
    worker = MemorializationWorker(
        sessions,
        directory.adapter,
        WorkerOptions.from_settings(settings),
        on_change=delivery.schedule,
    )
    interactions = InteractionService(
        sessions=sessions,
        read_sessions=read_sessions,
        directory=directory,
        changes=changes,
        delivery=delivery,
        settings=settings,
        event_hooks=[MemorializationHook(directory.memorialization_mapping, worker=worker)],
    )
    actions = AgentActions(
        sessions=sessions,
        directory=directory,
        crm=crm,
        changes=changes,
        views=views,
        delivery=delivery,
    )
    forms = RecordForms(read_sessions=read_sessions, directory=directory, crm=crm, actions=actions)
    bot = TeamsBot(
        interactions=interactions,
        actions=actions,
        forms=forms,
        delivery=delivery,
        notifier=notifier,
        sessions=sessions,
        development=settings.development,
    )
    # platform connectors: events in through the inbox; the subscriber follows its settings
    inbox = ConnectorInbox(sessions, interactions)
    supervisor = ConnectorSupervisor(sessions, directory.secret_box, inbox, http)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        http=http,
        directory=directory,
        configurations=ConfigurationStore(sessions, directory),
        connectors=ConnectorStore(sessions, directory.secret_box, on_change=supervisor.wake),
        inbox=inbox,
        connector_supervisor=supervisor,
        notifier=notifier,
        delivery=delivery,
        interactions=interactions,
        actions=actions,
        forms=forms,
        memorialization=worker,
        adapter=adapter,
        bot=bot,
        crm=crm,
        changes=changes,
    )


@contextlib.asynccontextmanager
async def running_services(
    settings: Settings,
    *,
    auth: AgentAuthConfiguration,
    connections: Connections | None = None,
    metrics: Metrics | None = None,
    app_rate: tuple[int, float] = PER_TENANT,
    prepared: bool = False,
) -> AsyncIterator[Services]:
    """The services, running: the database migrated and the default configuration made
    first (unless ``prepared``: a ``serve --workers`` parent did that), the memorialization
    worker started; at the end the worker stops first, then everything closes."""
    log_storage(settings)
    if not prepared:
        log.info("Applying database migrations")
        await upgrade_database(settings.effective_database_url)
        log.info("Database schema up to date")
    services = build_services(
        settings, auth=auth, connections=connections, metrics=metrics, app_rate=app_rate
    )
    try:
        if not prepared:
            await services.directory.ensure_default()
        elif await services.directory.find_default() is None:  # deleted since the parent made it
            log.warning("No CRM configuration: the first event makes the default demo one")
        await _log_configurations(services)
        await services.memorialization.start()
        await services.connector_supervisor.start()
        try:
            yield services
        finally:
            log.info("Shutting down: stopping the memorialization worker")
            await services.connector_supervisor.stop()
            await services.inbox.aclose()
            await services.memorialization.stop()
    finally:
        log.info("Shutting down: finishing card updates in flight, closing connections")
        await close_services(services)
        log.info("Shut down")


def log_storage(settings: Settings) -> None:
    """The first start-up lines: where the data lives (the database without credentials)."""
    log.info("Data directory: %s", os.path.abspath(settings.data_dir))
    log.info("Database: %s", safe_database_url(settings.effective_database_url))


def safe_database_url(url: str) -> str:
    """The database URL without user name and password, for the log."""
    return make_url(url)._replace(username=None, password=None).render_as_string()


async def _log_configurations(services: Services) -> None:
    configurations = await services.configurations.list_configurations()
    active = [c for c in configurations if c.status == "active"]
    default = next((c for c in configurations if c.is_default), None)
    log.info(
        "CRM configurations: %d (%d active); default: %s",
        len(configurations),
        len(active),
        f"{default.id} ({default.type})" if default else "none",
    )


async def close_services(services: Services) -> None:
    """Wait for the card updates in flight, then close every client and the database."""
    await services.delivery.drain()
    await services.notifier.aclose()
    await services.crm.aclose()
    await services.directory.aclose()
    await services.http.aclose()
    await services.engine.dispose()


def _bot_adapter(
    settings: Settings, auth: AgentAuthConfiguration, connections: Connections | None
) -> tuple[CloudAdapter, Connections]:
    """The Bot Framework adapter, and the connection manager that mints its outbound tokens
    (the notifier uses the same one for proactive messages)."""
    manager = connections or MsalConnectionManager(
        connections_configurations={"SERVICE_CONNECTION": auth}
    )
    # The host check refuses http and loopback, so it is on only with real credentials.
    validate_hosts = not settings.anonymous and settings.validate_service_url
    adapter = CloudAdapter(
        connection_manager=manager,
        channel_service_client_factory=WireClientFactory(manager),
        host_validator=OutboundHostValidator(enabled=validate_hosts),
    )
    return adapter, manager
