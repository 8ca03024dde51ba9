"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg), and migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from .sqlite_engine import create_sqlite_engine
from .types import CheckedSession

__all__ = [
    "create_engine",
    "create_demo_crm_engine",
    "session_factory",
    "read_session_factory",
    "upgrade_database",
    "is_sqlite",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# SQLite: readers never wait for the writer (WAL), so a larger pool serves concurrent
# reads; writing transactions queue on the engine's write gate (below), not in the pool.
SQLITE_POOL_SIZE, SQLITE_MAX_OVERFLOW = 10, 30
# PostgreSQL: per process. Connections beyond pool_size are opened and closed again on
# demand, which costs a connect and asyncpg's type set-up each time: keep the steady set
# large and the overflow small. Several replicas share the server's max_connections (100
# by default): 4 replicas at 20 + 5 stay within it.
POSTGRES_POOL_SIZE, POSTGRES_MAX_OVERFLOW = 20, 5


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine. SQLite gets WAL, runs on the event loop's thread, waits
    asynchronously for other processes' locks and queues this process's writers on a write
    gate (:mod:`bot.storage.sqlite_engine`), so the worker and the web handlers share the file
    without polling for its lock; PostgreSQL gets a connection pool."""
    if is_sqlite(url):
        return create_sqlite_engine(
            url, echo=echo, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_MAX_OVERFLOW
        )
    return create_async_engine(
        url,
        echo=echo,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
        pool_pre_ping=True,
    )


def create_demo_crm_engine(url: str) -> AsyncEngine:
    """The demo CRM's engine (handed to it through ``AdapterContext.extra``): SQLite as the
    service's own database (event loop's thread, write gate), so both share the process's
    writers; other databases with the driver's default pool."""
    if is_sqlite(url):
        return create_sqlite_engine(url)
    return create_async_engine(url, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=CheckedSession)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    """Sessions for reading only: on PostgreSQL in autocommit, so a read costs no BEGIN and
    ROLLBACK round trips (each statement sees the latest committed data); SQLite's driver
    opens no transaction for reads anyway."""
    if engine.dialect.name == "sqlite":
        return session_factory(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        sync_session_class=CheckedSession,
    )


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_sync(url: str, revision: str) -> None:
    from alembic import command

    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_alembic_config(url), revision)


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations (``customer-card db upgrade`` and ``serve`` call this)."""
    # Alembic's env runs its own event loop for the async driver: keep it off ours.
    await asyncio.to_thread(_upgrade_sync, url, revision)
