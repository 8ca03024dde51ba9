"""Shared fixtures: a fresh, migrated database per test on SQLite and (marked) PostgreSQL, and
the fake Bot Connector every service test posts cards to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot.connector import FakeConnector
from tests.postgres import POSTGRES_URL, throwaway_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    """URL of an empty, migrated database: SQLite file or a fresh PostgreSQL database."""
    from bot.storage.db import upgrade_database

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        await upgrade_database(url)
        yield url
        return
    async with throwaway_database(POSTGRES_URL) as url:
        await upgrade_database(url)
        yield url


@pytest.fixture
async def empty_postgres_url() -> AsyncIterator[str]:
    """URL of a fresh PostgreSQL database with no schema at all (what a first deployment sees)."""
    async with throwaway_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
async def sqlite_url(tmp_path) -> str:
    """A migrated SQLite database, for tests that need only one backend."""
    from bot.storage.db import upgrade_database

    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    await upgrade_database(url)
    return url


@pytest.fixture
async def connector(aiohttp_server) -> AsyncIterator[FakeConnector]:  # type: ignore[no-untyped-def]
    """A fake Bot Connector on loopback (the ``serviceUrl`` of the test activities). It
    refuses what Agents Playground refuses; any refusal fails the test that caused it."""
    fake = FakeConnector()
    fake.server = await aiohttp_server(fake.app())  # type: ignore[attr-defined]
    yield fake
    assert fake.refusals_expected or not fake.rejected, fake.rejected


@pytest.fixture
def service_url(connector: FakeConnector) -> str:
    return str(connector.server.make_url("/"))  # type: ignore[attr-defined]
