"""The aiohttp application: routes, start-up (migrations, default configuration, clients)
and clean shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from microsoft_agents.hosting.core.authorization import Connections

from crm.errors import NotFoundError

from .api import admin as admin_api
from .api import audit as audit_api
from .api import connector_admin, connector_hooks, demo_pages
from .api import workflows as workflow_api
from .api.errors import error_middleware, server_log
from .api.events import setup_event_routes
from .api.health import setup_health_routes
from .api.input_middleware import input_middleware
from .api.messages import AUTH_CONFIG, setup_messages_route
from .api.openapi import OPENAPI, OpenApiRegistry, add_api_routes, api_route, openapi_document
from .api.security import requires
from .console import add_routes as add_console_routes
from .memorialization.setup import setup_memorialization
from .observability.connector_policy import PER_TENANT
from .observability.job_gauge import job_gauge_refresher
from .observability.logs import register_secret
from .observability.metrics import Metrics, metrics_handler
from .services import SERVICES
from .settings import Settings
from .startup import running_services
from .workers import WorkerSlot

__all__ = ["create_app", "package_version"]

log = logging.getLogger(__name__)

CONNECTIONS = web.AppKey("bot_connections", Connections)
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
WORKER_SLOT = web.AppKey("worker_slot", WorkerSlot)


def package_version() -> str:
    try:
        return version("customer-card")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0"


def create_app(
    settings: Settings | None = None,
    *,
    connections: Connections | None = None,
    worker: WorkerSlot | None = None,
) -> web.Application:
    """The service as an aiohttp application; everything starts when the app starts.

    ``connections`` replaces the MSAL connection manager that mints outbound Bot Connector
    tokens (tests use a local one; production leaves it unset). ``worker``: the app is one
    of ``serve --workers N`` (:mod:`bot.workers`), whose parent process has applied the
    migrations and made the default configuration; it takes its share of the Bot
    Connector's app rate and its ``/metrics`` answers for all workers."""
    settings = settings or Settings()
    app = web.Application(
        middlewares=[error_middleware, input_middleware],
        client_max_size=settings.max_body_bytes,
        handler_args={"logger": server_log()},
    )
    app[SETTINGS] = settings  # the services are built at start-up (``_lifecycle``)
    app[OPENAPI] = OpenApiRegistry(version=package_version())
    if connections is not None:
        app[CONNECTIONS] = connections
    setup_messages_route(app, settings)
    setup_event_routes(app)
    setup_health_routes(app)
    add_api_routes(app, openapi_document)
    admin_api.add_routes(app)
    audit_api.add_routes(app)
    add_console_routes(app)
    workflow_api.add_routes(app)
    connector_admin.add_routes(app)
    connector_hooks.add_routes(app)
    if worker is not None:
        app[WORKER_SLOT] = worker
    app[METRICS] = Metrics(multiprocess=worker is not None)
    scrape = metrics_handler(
        app[METRICS],
        job_gauge_refresher(
            app[METRICS], lambda: app[SERVICES].sessions if SERVICES in app else None
        ),
    )
    add_api_routes(
        app,
        api_route(
            "GET",
            "/metrics",
            summary="Prometheus metrics (text format): a metrics or admin key",
            tags=("operations",),
        )(requires("metrics")(scrape)),
    )
    if settings.development:
        demo_pages.add_routes(app, _default_demo_adapter(app))
    for key in (
        *settings.api_keys,
        *settings.admin_api_keys,
        *settings.metrics_api_keys,
        settings.app_password,
        settings.secret_key,
        settings.console_oidc_client_secret,
    ):
        register_secret(key.get_secret_value())
    app.cleanup_ctx.append(_lifecycle)
    setup_memorialization(app)
    return app


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    worker = app.get(WORKER_SLOT)
    async with running_services(
        settings,
        auth=app[AUTH_CONFIG],
        connections=app.get(CONNECTIONS),
        metrics=app[METRICS],
        app_rate=_app_rate(worker, settings.connector_tenant_rate),
        prepared=worker is not None,  # a worker's parent process has prepared the database
    ) as services:
        app[SERVICES] = services
        _log_identity(settings, worker)
        yield


def _log_identity(settings: Settings, worker: WorkerSlot | None) -> None:
    if settings.anonymous:
        log.warning(
            "No app id configured (CUSTOMER_CARD_APP_ID): /api/messages accepts "
            "UNAUTHENTICATED requests. Use this only with the Emulator or Playground."
        )
    else:
        log.info("Bot Framework app id %s (%s)", settings.app_id, settings.app_type)
    if worker is not None:
        log.info("Worker %s of %d", worker, worker.count)


def _app_rate(worker: WorkerSlot | None, limit: int) -> tuple[int, float]:
    """Teams' per-tenant app rate (``limit`` calls per second), shared by the workers on
    this host: each keeps its own window, so together they stay within the limit."""
    _, period = PER_TENANT
    return max(1, limit // (worker.count if worker else 1)), period


def _default_demo_adapter(app: web.Application):  # type: ignore[no-untyped-def]
    """The demo CRM behind the default configuration, for the read-only /demo-crm pages."""

    async def provide():  # type: ignore[no-untyped-def]
        directory = app[SERVICES].directory
        configuration_id = await directory.ensure_default()
        adapter = await directory.adapter(configuration_id)
        adapter = getattr(adapter, "wrapped", adapter)  # the demo's own extras (timeline)
        if adapter.system.type != "demo":
            raise NotFoundError(
                "The default configuration is not the demo CRM.", code="not_demo_crm"
            )
        return adapter

    return provide
