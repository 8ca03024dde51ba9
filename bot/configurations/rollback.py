"""All or nothing for a series of store operations (``customer-card config apply``): the
configuration tables are saved before and put back as they were when any step fails, so a
file that fails half-way changes nothing.

Each store operation commits on its own (the CRM checks between them read through the
directory's own sessions), so one database transaction cannot span them; the saved rows
are restored in one transaction instead. A change another admin makes while the series
runs is undone with it when the series fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..crm_directory import CrmDirectory
from ..storage.config_tables import (
    ConfigurationRow,
    DynamicDataMappingRow,
    MemorializationMappingRow,
    WorkflowRow,
)

__all__ = ["all_or_nothing"]

# parents first (inserts in this order, deletes in reverse)
_TABLES: tuple[Table, ...] = tuple(
    row.__table__  # type: ignore[misc]
    for row in (ConfigurationRow, MemorializationMappingRow, DynamicDataMappingRow, WorkflowRow)
)


@contextlib.asynccontextmanager
async def all_or_nothing(
    sessions: async_sessionmaker[AsyncSession], directory: CrmDirectory
) -> AsyncIterator[None]:
    """Run the block; when it raises, the configuration tables are as they were before."""
    saved = await _save(sessions)
    try:
        yield
    except BaseException:
        touched = await _restore(sessions, saved)
        for configuration_id in touched:
            await directory.forget(configuration_id)
        raise


async def _save(sessions: async_sessionmaker[AsyncSession]) -> dict[Table, list[dict[str, Any]]]:
    async with sessions() as session:
        return {
            table: [dict(row) for row in (await session.execute(select(table))).mappings()]
            for table in _TABLES
        }


async def _restore(
    sessions: async_sessionmaker[AsyncSession], saved: dict[Table, list[dict[str, Any]]]
) -> set[str]:
    async with sessions() as session, session.begin():
        now = {row[0] for row in await session.execute(select(ConfigurationRow.id))}
        for table in reversed(_TABLES):
            await session.execute(delete(table))
        for table in _TABLES:
            if saved[table]:
                await session.execute(insert(table), saved[table])
    return now | {row["id"] for row in saved[_TABLES[0]]}
