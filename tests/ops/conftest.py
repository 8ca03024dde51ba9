"""Fixtures for the operations tests: the service with a fake Bot Connector (from tests/bot),
and reading Prometheus samples the way a scraper does."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.bot.conftest import (  # noqa: F401  (fixtures)
    ADMIN_KEY,
    METRICS_AUTH,
    METRICS_KEY,
    PLATFORM_KEY,
    bot,
    make_bot,
    make_settings,
)


def sample(exposition: str, metric: str, /, **labels: str) -> float:
    """The value of one sample in a ``/metrics`` text (0 when the series is absent)."""
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == metric and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def series(exposition: str, name: str) -> list[dict[str, Any]]:
    """Every sample of ``name`` as its labels plus ``value``."""
    return [
        {**s.labels, "value": s.value}
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == name
    ]
