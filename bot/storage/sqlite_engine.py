"""Async SQLAlchemy engines for SQLite files shared by several writers.

Both the service's database (:mod:`bot.storage.db`) and the demo CRM use it. Statements run
on the event loop's thread (:mod:`bot.storage.sqlite_inline`), the file is in WAL mode so readers
never wait for the writer, a lock held by another process is waited for asynchronously,
and this process's writers queue on the engine's write gate (:class:`_WriteGate`) instead
of polling for the file's lock.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

try:  # SQLAlchemy 2.1 name; 2.0 has only the old one
    from sqlalchemy.util import await_
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util import await_only as await_

from .sqlite_inline import InlineConnection, connect_inline

__all__ = ["create_sqlite_engine", "lock_for_writing", "background_writes", "LOCK_TIMEOUT_SECONDS"]

LOCK_TIMEOUT_SECONDS = 30.0


def create_sqlite_engine(
    url: str, *, echo: bool = False, pool_size: int = 5, max_overflow: int = 10
) -> AsyncEngine:
    """An async engine for a ``sqlite+aiosqlite`` URL: WAL, statements on the event loop's
    thread, this process's writers queued on a write gate. ``pool_size`` and
    ``max_overflow`` apply to files (an in-memory database is one shared connection)."""
    parsed = make_url(url)
    database = parsed.database
    file_db = bool(database and database != ":memory:")
    if file_db:
        Path(database).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
    args, options = SQLiteDialect_aiosqlite().create_connect_args(parsed)

    async def connect() -> InlineConnection:
        return await connect_inline(*args, lock_timeout=LOCK_TIMEOUT_SECONDS, **options)

    engine = create_async_engine(
        url,
        echo=echo,
        async_creator=connect,
        **({"pool_size": pool_size, "max_overflow": max_overflow} if file_db else {}),
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit writes the WAL without waiting for the disk (fsync only
        # at checkpoints). The file never corrupts and a crashed process loses nothing;
        # a power loss or OS crash may undo the last transactions. FULL cost a 3-10 ms
        # fsync per commit on the event loop, ~4 commits per interaction event.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    _gate_sqlite_writes(engine)
    return engine


async def lock_for_writing(conn: AsyncConnection) -> None:
    """On SQLite, start the connection's transaction holding the file's write lock.

    The driver otherwise opens a transaction only at its first write statement, or, after
    a ``SAVEPOINT``, as a reader: a transaction that read a snapshot and then writes fails
    with "database is locked" (SQLITE_BUSY_SNAPSHOT, which no busy handler retries) when
    another connection committed in between. ``BEGIN IMMEDIATE`` takes the lock (and the
    write gate) first. Other databases: nothing to do.
    """
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


# Statements that take SQLite's write lock (the driver opens the transaction at the first).
_WRITE = re.compile(
    r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|"
    r"BEGIN\s+(IMMEDIATE|EXCLUSIVE))\b",
    re.IGNORECASE,
)


class _WriteGate:
    """One writing transaction per engine at a time, the others queued.

    SQLite has a single writer. Without the gate, each concurrent writer polls for the
    file lock in SQLite's busy handler, sleeping up to 100 ms between tries, so under load
    most of a write's time was spent asleep after the lock had already been released.
    The gate is taken before a transaction's first write statement and released after its
    COMMIT or ROLLBACK (or when the connection is closed), i.e. exactly while SQLite's lock
    is held. Other processes on the same file still meet the busy handler.

    Writes somebody waits for (an agent's click, an event's answer, the first card) go
    before background writes (:func:`background_writes`): see :class:`_Lanes`.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lanes] = (
            weakref.WeakKeyDictionary()
        )
        self._holders: dict[int, _Lanes] = {}  # id(DBAPI connection) -> gate held

    def enter(self, dbapi_connection: Any) -> None:
        """Called in SQLAlchemy's greenlet before a write statement on the connection."""
        key = id(dbapi_connection)
        if key in self._holders:
            return
        loop = asyncio.get_running_loop()
        lanes = self._lanes.get(loop)
        if lanes is None:
            lanes = self._lanes[loop] = _Lanes()
        try:
            await_(_acquire(lanes, self._timeout))
        except TimeoutError:
            raise OperationalError(
                "(write gate)", None, sqlite3.OperationalError("database is locked")
            ) from None
        self._holders[key] = lanes

    def leave(self, dbapi_connection: Any) -> None:
        lanes = self._holders.pop(id(dbapi_connection), None)
        if lanes is not None:
            lanes.release()


_BACKGROUND: ContextVar[bool] = ContextVar("sqlite_background_writes", default=False)


@contextlib.contextmanager
def background_writes() -> Iterator[None]:
    """Writes made inside (and in tasks started inside) wait for the write gate behind
    writes that somebody is waiting for. For work whose result nobody watches happen:
    related records arriving after the first card, CRM write-back jobs. (Not for a posted
    message's id: until it is stored, the card's updates wait for it.)"""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


class _Lanes:
    """The gate itself: held or free, and two queues of waiters, each in arrival order.

    On release the gate passes straight to the next waiter (no newcomer slips in while the
    woken one waits for its turn on the loop): the first of the foreground queue, unless a
    background waiter has waited ``MAX_DEFERRAL`` seconds, which then goes first, so
    background writes are delayed under load but never starved. A waiter that gave up
    (cancelled, timed out) stays queued as a done future and is skipped; the queues are
    therefore empty whenever the gate is free.
    """

    MAX_DEFERRAL = 0.25

    def __init__(self) -> None:
        self._held = False
        self._foreground: collections.deque[asyncio.Future[None]] = collections.deque()
        self._background: collections.deque[tuple[float, asyncio.Future[None]]] = (
            collections.deque()
        )

    async def acquire(self, background: bool) -> None:
        if not self._held:
            self._held = True
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if background:
            self._background.append((loop.time(), waiter))
        else:
            self._foreground.append(waiter)
        try:
            await waiter
        except BaseException:
            if not waiter.cancelled():
                self.release()  # handed over just as the wait was given up: pass it on
            raise

    def release(self) -> None:
        waiter = self._next()
        if waiter is None:
            self._held = False
        else:
            waiter.set_result(None)  # the gate stays held: it passes to that waiter

    def _next(self) -> asyncio.Future[None] | None:
        while self._background and self._background[0][1].done():
            self._background.popleft()
        while self._foreground and self._foreground[0].done():
            self._foreground.popleft()
        if self._background and (
            not self._foreground
            or asyncio.get_running_loop().time() - self._background[0][0] >= self.MAX_DEFERRAL
        ):
            return self._background.popleft()[1]
        return self._foreground.popleft() if self._foreground else None


async def _acquire(lanes: _Lanes, seconds: float) -> None:
    # runs in the calling task (SQLAlchemy's greenlet hands the coroutine to it), so it
    # sees that task's background_writes()
    async with asyncio.timeout(seconds):
        await lanes.acquire(_BACKGROUND.get())


def _gate_sqlite_writes(engine: AsyncEngine) -> None:
    gate = _WriteGate(LOCK_TIMEOUT_SECONDS)
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before_write(
        conn: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if _WRITE.match(statement) and _in_loop():
            gate.enter(_raw(conn.connection))

    def releasing(operation: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(dbapi_connection: Any) -> None:
            try:
                operation(dbapi_connection)
            finally:
                gate.leave(_raw(dbapi_connection))

        return run

    # The end of a transaction (commit, rollback, the pool's reset on return) and a
    # connection's close release the gate after the database released its lock.
    for name in ("do_commit", "do_rollback", "do_close", "do_terminate"):
        setattr(dialect, name, releasing(getattr(dialect, name)))


def _raw(connection: Any) -> Any:
    """The driver's connection behind a pool proxy (the key the gate uses)."""
    return getattr(connection, "dbapi_connection", None) or connection


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
