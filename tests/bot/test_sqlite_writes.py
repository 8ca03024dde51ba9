"""SQLite writers: this process's queue on the engine's write gate; a lock held elsewhere
(another engine, another process) is waited for without blocking the event loop."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.interactions.event_rows import new_interaction
from bot.interactions.events import InteractionEvent
from bot.storage.db import create_engine, session_factory
from bot.storage.tables import InteractionRow


def _interaction(interaction_id: str) -> InteractionRow:
    """A started interaction's row, as the events API makes it."""
    event = InteractionEvent(
        type="started", event_id=f"e-{interaction_id}", interaction_id=interaction_id
    )
    return new_interaction(event, "cfg")


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InteractionRow)) or 0)


async def test_concurrent_write_transactions_all_commit(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)

    async def write(index: int) -> None:
        async with sessions() as session, session.begin():
            session.add(_interaction(f"i{index}"))
            await session.flush()  # holds the write lock ...
            await asyncio.sleep(0)  # ... while the others get their turn on the loop
            row = await session.get(InteractionRow, f"i{index}")
            assert row is not None
            row.state = "updated"

    try:
        await asyncio.gather(*(write(index) for index in range(40)))
        assert await _count(sessions) == 40
    finally:
        await engine.dispose()


async def test_a_lock_held_by_another_engine_is_awaited_without_blocking(sqlite_url: str) -> None:
    first, second = create_engine(sqlite_url), create_engine(sqlite_url)
    holder, waiter = session_factory(first), session_factory(second)
    order: list[str] = []
    locked, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with holder() as session, session.begin():
            session.add(_interaction("held"))
            await session.flush()  # the file's write lock is now taken
            locked.set()
            await release.wait()
            order.append("holder commits")

    async def write_meanwhile() -> None:
        await locked.wait()
        async with waiter() as session, session.begin():
            session.add(_interaction("waited"))
        order.append("waiter committed")

    async def loop_keeps_running() -> None:
        await locked.wait()
        # runs while the waiter waits for the lock: the loop is not blocked by it
        for _ in range(5):
            await asyncio.sleep(0.01)
        order.append("loop ran")
        release.set()

    try:
        await asyncio.gather(hold(), write_meanwhile(), loop_keeps_running())
        assert order == ["loop ran", "holder commits", "waiter committed"]
        assert await _count(waiter) == 2
    finally:
        await first.dispose()
        await second.dispose()
