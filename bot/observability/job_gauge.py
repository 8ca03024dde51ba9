"""The memorialization job gauge, read from the outbox table when ``/metrics`` is scraped.

Reading on scrape (rather than counting state changes) keeps the gauge right across
replicas and restarts: the outbox is shared, so every replica reports the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..storage.job_tables import MemorializationJobRow
from .metrics import Metrics, Refresh

__all__ = ["count_jobs_by_state", "job_gauge_refresher"]

Sessions = async_sessionmaker[AsyncSession]


async def count_jobs_by_state(sessions: Sessions) -> dict[str, int]:
    """How many outbox jobs are in each state (states without jobs are absent)."""
    async with sessions() as session:
        rows = await session.execute(
            select(MemorializationJobRow.status, func.count()).group_by(
                MemorializationJobRow.status
            )
        )
    return {str(status): int(count) for status, count in rows.all()}


def job_gauge_refresher(metrics: Metrics, sessions: Callable[[], Sessions | None]) -> Refresh:
    """A ``metrics_handler`` refresh callback. ``sessions`` is asked on every scrape because
    the session factory exists only once the app has started (None before: nothing read)."""

    async def refresh() -> None:
        factory = sessions()
        if factory is not None:
            metrics.set_job_counts(await count_jobs_by_state(factory))

    return refresh
