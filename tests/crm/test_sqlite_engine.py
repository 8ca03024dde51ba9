"""The shared SQLite engine: WAL, writers queued on the write gate, other processes' locks."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.pool import StaticPool

from crm.sqlite_engine import create_sqlite_engine, lock_for_writing


@pytest.fixture
async def engine(tmp_path):  # type: ignore[no-untyped-def]
    engine = create_sqlite_engine(f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'x.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await conn.execute(text("INSERT INTO counter VALUES (0)"))
    yield engine
    await engine.dispose()


async def _increment(engine) -> None:  # type: ignore[no-untyped-def]
    """Read, yield to the other tasks, then write: a lost update without the write lock."""
    async with engine.begin() as conn:
        await lock_for_writing(conn)
        n = await conn.scalar(text("SELECT n FROM counter"))
        await asyncio.sleep(0)
        await conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})


async def test_file_is_in_wal_mode(engine) -> None:
    async with engine.connect() as conn:
        assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"


async def test_writers_of_one_engine_queue(engine) -> None:
    await asyncio.gather(*(_increment(engine) for _ in range(25)))
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT n FROM counter")) == 25


async def test_another_process_lock_is_awaited_without_blocking_the_loop(engine, tmp_path) -> None:
    other = sqlite3.connect(tmp_path / "sub" / "x.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    writer = asyncio.create_task(_increment(engine))
    await asyncio.sleep(0.1)  # the loop runs while the writer waits for the file lock
    assert not writer.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, timeout=10)
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT n FROM counter")) == 1


async def test_in_memory_database_is_one_shared_connection() -> None:
    engine = create_sqlite_engine("sqlite+aiosqlite://")
    try:
        assert isinstance(engine.pool, StaticPool)
        async with engine.begin() as conn:
            await lock_for_writing(conn)
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM t")) == 0
    finally:
        await engine.dispose()
