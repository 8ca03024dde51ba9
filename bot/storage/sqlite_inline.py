"""SQLite for the async engine without a thread per connection.

aiosqlite runs every call (cursor, execute, fetch, close: about four per statement) on a
worker thread and hands the result back to the event loop. On a busy machine each hand-off
waits for the OS to schedule the thread and for the GIL, which made a statement cost
milliseconds and, inside a write transaction, kept SQLite's single write lock that long.
A local SQLite file in WAL mode answers the service's small, indexed queries in
microseconds, so :class:`InlineConnection` runs them directly on the event loop's thread,
behind aiosqlite's interface (which SQLAlchemy's ``sqlite+aiosqlite`` dialect drives).

The connection's own busy timeout is 0: a lock held by another process (the CLI, a worker
process) is waited for asynchronously, retrying with a short back-off up to ``timeout``
seconds, instead of blocking the loop. Writers of this process queue on the engine's write
gate (:mod:`bot.storage.sqlite_engine`) and never meet each other's lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite

__all__ = ["InlineConnection", "connect_inline"]

_SQLITE_BUSY = 5  # the primary result code; extended ones (BUSY_SNAPSHOT) cannot be retried
# SQLite's write lock is held for well under a millisecond per transaction here: poll
# briefly rather than sleep long after it was released (several workers share the file).
_FIRST_PAUSE, _MAX_PAUSE = 0.0005, 0.004


class _InlineQueue:
    """Stands in for aiosqlite's hand-off queue: runs the call at once and settles its
    future (SQLAlchemy puts calls on that queue directly, e.g. to set isolation_level)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An ``aiosqlite.Connection`` whose calls run on the calling (event loop) thread."""

    def __init__(
        self,
        connector: Callable[[], sqlite3.Connection],
        *,
        lock_timeout: float,
        iter_chunk_size: int = 64,
    ) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _InlineQueue()  # type: ignore[assignment]
        self._lock_timeout = lock_timeout

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = await self._execute(self._connector)
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running:
            raise ValueError("Connection closed")
        call = partial(fn, *args, **kwargs)
        deadline = time.monotonic() + self._lock_timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                return call()
            except sqlite3.OperationalError as exc:
                # another process holds the file's lock: wait without blocking the loop
                if (
                    getattr(exc, "sqlite_errorcode", None) != _SQLITE_BUSY
                    or time.monotonic() + pause > deadline
                ):
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE)

    def stop(self) -> asyncio.Future[Any] | None:
        """Close the sqlite3 connection (there is no thread to stop)."""
        self._running = False
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        return None

    async def close(self) -> None:
        if self._connection is None:
            return
        self.stop()


def connect_inline(database: str, *, lock_timeout: float, **kwargs: Any) -> InlineConnection:
    """Like ``aiosqlite.connect``; the sqlite3 connection may be closed from any thread
    (the pool may drop it from a finalizer) but is used only by the event loop's."""
    kwargs = {**kwargs, "timeout": 0, "check_same_thread": False}
    return InlineConnection(partial(sqlite3.connect, database, **kwargs), lock_timeout=lock_timeout)
