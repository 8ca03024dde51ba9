"""The shared SQLite engine: WAL, writers queued on the write gate, other processes' locks."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.pool import StaticPool

from bot.storage.sqlite_engine import background_writes, create_sqlite_engine, lock_for_writing


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


async def _append(engine, log: str, *, background: bool) -> None:  # type: ignore[no-untyped-def]
    """One writing transaction that appends ``log`` to a table (commit order = row order)."""
    with background_writes() if background else contextlib.nullcontext():
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO writes (name) VALUES (:name)"), {"name": log})


@contextlib.asynccontextmanager
async def _holding_the_gate(engine) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """A ``writes`` table, and a transaction that wrote ``holder`` to it, open inside."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE writes (name TEXT NOT NULL)"))
    async with engine.begin() as holder:
        await holder.execute(text("INSERT INTO writes (name) VALUES ('holder')"))
        yield


async def _written(engine) -> list[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT name FROM writes ORDER BY rowid"))).scalars())


async def test_waiting_writes_go_before_background_writes(engine) -> None:
    async with _holding_the_gate(engine):  # the others queue meanwhile
        queued = [
            asyncio.create_task(_append(engine, "background-1", background=True)),
            asyncio.create_task(_append(engine, "background-2", background=True)),
        ]
        await asyncio.sleep(0.01)
        queued += [
            asyncio.create_task(_append(engine, "pin", background=False)),
            asyncio.create_task(_append(engine, "event", background=False)),
        ]
        await asyncio.sleep(0.01)
    await asyncio.gather(*queued)
    assert await _written(engine) == ["holder", "pin", "event", "background-1", "background-2"]


async def test_background_writes_wait_at_most_a_quarter_second(engine) -> None:
    async with _holding_the_gate(engine):
        late = asyncio.create_task(_append(engine, "background", background=True))
        await asyncio.sleep(0.3)  # it has waited longer than the deferral bound
        waiting = asyncio.create_task(_append(engine, "pin", background=False))
        await asyncio.sleep(0.01)
    await asyncio.gather(late, waiting)
    assert await _written(engine) == ["holder", "background", "pin"]


async def test_a_writer_that_gives_up_waiting_does_not_block_the_gate(engine) -> None:
    async with _holding_the_gate(engine):
        gave_up = asyncio.create_task(_append(engine, "cancelled", background=False))
        after = asyncio.create_task(_append(engine, "after", background=True))
        await asyncio.sleep(0.01)
        gave_up.cancel()
        await asyncio.sleep(0.01)
    await asyncio.wait_for(after, timeout=5)
    assert await _written(engine) == ["holder", "after"]
