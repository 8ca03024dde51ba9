"""Prometheus metrics (``GET /metrics``). One registry per app so tests and replicas count alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics", "metrics_handler"]

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.activities = Counter(
            "customer_card_activities_total", "Bot Framework activities received",
            ["type", "name", "outcome"], registry=r)
        self.interaction_events = Counter(
            "customer_card_interaction_events_total", "Interaction events from the platform",
            ["type", "outcome"], registry=r)
        self.card_sends = Counter(
            "customer_card_card_sends_total", "Customer Cards posted and updated in place",
            ["operation", "outcome"], registry=r)
        self.crm_calls = Counter(
            "customer_card_crm_calls_total", "CRM adapter calls",
            ["configuration", "crm", "operation", "outcome"], registry=r)
        self.crm_latency = Histogram(
            "customer_card_crm_call_seconds", "CRM adapter call latency",
            ["configuration", "crm", "operation"], buckets=_LATENCY_BUCKETS, registry=r)
        self.memorialization_jobs = Gauge(
            "customer_card_memorialization_jobs", "Memorialization jobs by state",
            ["state"], registry=r)
        self.memorialization_runs = Counter(
            "customer_card_memorialization_runs_total", "Memorialization job attempts",
            ["outcome"], registry=r)
        self.token_refreshes = Counter(
            "customer_card_token_refreshes_total", "CRM access tokens minted", ["crm"],
            registry=r)
        self.connector_retries = Counter(
            "customer_card_connector_retries_total", "Bot Connector calls retried",
            ["status"], registry=r)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_handler(metrics: Metrics):  # type: ignore[no-untyped-def]
    async def handle(_request: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.charset = "utf-8"
        return response

    return handle
