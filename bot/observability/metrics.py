"""Prometheus metrics (``GET /metrics``). One registry per app so tests and replicas count alone.

Counters are per process: Prometheus scrapes every replica and sums them. The memorialization
job gauge is the exception: it is read from the shared outbox table on each scrape, so every
replica reports the same (cluster-wide) numbers; aggregate it with ``max``, not ``sum``.

The worker processes of ``serve --workers N`` share one port, so a scrape reaches one of them
at random: there ``Metrics(multiprocess=True)`` answers for all of them, from the files each
writes under ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, set up by
:mod:`bot.workers`): counters and histograms summed, the job gauge as last read.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from crm.errors import AppError

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

__all__ = [
    "Metrics",
    "metrics_handler",
    "app_metrics",
    "count_card_operation",
    "error_outcome",
    "JOB_STATES",
    "Refresh",
]

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# the outbox's job states (bot.storage.job_tables.JOB_STATUSES), reported even when zero
JOB_STATES = ("pending", "running", "done", "failed")

Refresh = Callable[[], Awaitable[None]]


def error_outcome(exc: BaseException) -> str:
    """The ``outcome`` label of a failure: the error's code for our own errors (a small,
    fixed set: the catalogue keys), ``error`` for anything unexpected."""
    return exc.code if isinstance(exc, AppError) else "error"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    multiprocess: bool = False  # expose the sum over serve's workers (module docstring)

    def __post_init__(self) -> None:
        r = self.registry
        self.activities = Counter(
            "customer_card_activities_total",
            "Bot Framework activities received",
            ["type", "name", "outcome"],
            registry=r,
        )
        self.interaction_events = Counter(
            "customer_card_interaction_events_total",
            "Interaction events from the platform",
            ["type", "outcome"],
            registry=r,
        )
        self.card_sends = Counter(
            "customer_card_card_sends_total",
            "Customer Cards posted and updated in place",
            ["operation", "outcome"],
            registry=r,
        )
        self.crm_calls = Counter(
            "customer_card_crm_calls_total",
            "CRM adapter calls",
            ["configuration", "crm", "operation", "outcome"],
            registry=r,
        )
        self.crm_latency = Histogram(
            "customer_card_crm_call_seconds",
            "CRM adapter call latency",
            ["configuration", "crm", "operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        # Every worker reads the same table: with several, the most recent reading of a
        # live one is the number (ignored in a single process).
        self.memorialization_jobs = Gauge(
            "customer_card_memorialization_jobs",
            "Memorialization jobs by state",
            ["state"],
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        self.memorialization_runs = Counter(
            "customer_card_memorialization_runs_total",
            "Memorialization job attempts",
            ["outcome"],
            registry=r,
        )
        self.token_refreshes = Counter(
            "customer_card_token_refreshes_total", "CRM access tokens minted", ["crm"], registry=r
        )
        self.connector_retries = Counter(
            "customer_card_connector_retries_total",
            "Bot Connector calls retried",
            ["status"],
            registry=r,
        )

    def count_activity(self, type_: str, name: str, outcome: str) -> None:
        self.activities.labels(type_, name, outcome).inc()

    def count_event(self, type_: str, outcome: str) -> None:
        self.interaction_events.labels(type_, outcome).inc()

    def count_card(self, operation: str, outcome: str = "ok") -> None:
        """One Customer Card ``send`` (POST) or ``update`` (PUT) to the Bot Connector."""
        self.card_sends.labels(operation, outcome).inc()

    def count_token_refresh(self, crm: str) -> None:
        self.token_refreshes.labels(crm).inc()

    def count_connector_retry(self, status: int) -> None:
        """Fits ``ConnectorPolicy(on_retry=...)``."""
        self.connector_retries.labels(str(status)).inc()

    def set_job_counts(self, counts: Mapping[str, int]) -> None:
        """Memorialization jobs per state; states missing from ``counts`` read 0."""
        for state in (*JOB_STATES, *(s for s in counts if s not in JOB_STATES)):
            self.memorialization_jobs.labels(state).set(counts.get(state, 0))

    def exposition(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # reads PROMETHEUS_MULTIPROC_DIR
        return generate_latest(merged)


@contextlib.contextmanager
def count_card_operation(metrics: Metrics | None, operation: str) -> Iterator[None]:
    """Count the card send or update in the ``with`` block: ``ok``, or the failure's outcome
    (the exception still propagates). Does nothing without ``metrics``."""
    try:
        yield
    except Exception as exc:
        if metrics is not None:
            metrics.count_card(operation, _connector_outcome(exc))
        raise
    if metrics is not None:
        metrics.count_card(operation, "ok")


def _connector_outcome(exc: Exception) -> str:
    status = getattr(exc, "status", None)  # aiohttp.ClientResponseError from the connector
    return f"http_{status}" if isinstance(status, int) else error_outcome(exc)


def app_metrics(app: web.Application) -> Metrics | None:
    """The app's ``Metrics`` (``app[METRICS]``, made by ``create_app``); None in bare apps."""
    from bot.app import METRICS  # imported late: bot.app imports the handlers that call this

    return app.get(METRICS)


def metrics_handler(metrics: Metrics, refresh: Refresh | None = None) -> Handler:
    """``GET /metrics``. ``refresh`` runs first (e.g. reading the job gauge from the
    database); when it fails the scrape still answers, with the gauge's previous values."""

    async def handle(_request: web.Request) -> web.Response:
        if refresh is not None:
            try:
                await refresh()
            except Exception as exc:  # a database outage must not break every other metric
                log.warning("Metrics refresh failed: %s", type(exc).__name__)
        response = web.Response(body=metrics.exposition())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.charset = "utf-8"
        return response

    return handle
