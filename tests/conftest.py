"""Shared fixtures: a fresh, migrated database per test on SQLite and (marked) PostgreSQL, and
the fake Bot Connector every service test posts cards to."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.bot.connector import FakeConnector

POSTGRES_URL = os.environ.get(
    "CUSTOMER_CARD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def _create_pg_database() -> tuple[str, str]:
    """A throw-away database on the test server, so parallel runs never see each other."""
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_URL)
    name = f"cc_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=base.host,
        port=base.port or 5432,
        user=base.username,
        database=base.database,
        password=base.password,
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.set(database=name).render_as_string(hide_password=False), name


async def _drop_pg_database(name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_URL)
    conn = await asyncpg.connect(
        host=base.host,
        port=base.port or 5432,
        user=base.username,
        database=base.database,
        password=base.password,
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    """URL of an empty, migrated database: SQLite file or a fresh PostgreSQL database."""
    from bot.storage.db import upgrade_database

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        await upgrade_database(url)
        yield url
        return
    url, name = await _create_pg_database()
    try:
        await upgrade_database(url)
        yield url
    finally:
        await _drop_pg_database(name)


@pytest.fixture
async def empty_postgres_url() -> AsyncIterator[str]:
    """URL of a fresh PostgreSQL database with no schema at all (what a first deployment sees)."""
    url, name = await _create_pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(name)


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
