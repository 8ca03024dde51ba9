"""Throw-away PostgreSQL databases on a server (tests and benchmarks): each run makes its
own database and drops it afterwards, so parallel runs never see each other and existing
data is never touched."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["POSTGRES_URL", "create_database", "drop_database", "throwaway_database"]

# the test server (CUSTOMER_CARD_TEST_POSTGRES_URL): its databases are made and dropped here
POSTGRES_URL = os.environ.get(
    "CUSTOMER_CARD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def _connect(server_url: str) -> Any:
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    return await asyncpg.connect(
        host=base.host,
        port=base.port or 5432,
        user=base.username,
        database=base.database,
        password=base.password,
    )


async def create_database(server_url: str, prefix: str = "cc_test") -> tuple[str, str]:
    """A new empty database on ``server_url``'s server: (its URL, its name)."""
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await _connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(server_url).set(database=name)
    return url.render_as_string(hide_password=False), name


async def drop_database(server_url: str, name: str) -> None:
    conn = await _connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def throwaway_database(server_url: str, prefix: str = "cc_test") -> AsyncIterator[str]:
    """The URL of a new empty database, dropped on leaving."""
    url, name = await create_database(server_url, prefix)
    try:
        yield url
    finally:
        await drop_database(server_url, name)
