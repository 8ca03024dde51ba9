"""Saves job outcomes in groups: whatever finished while the previous group was being
written goes in the next transaction, so a busy worker commits far less than once per job,
and an idle one writes each outcome at once."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import leases
from .jobs import Outcome

__all__ = ["OutcomeWriter"]


class OutcomeWriter:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], owner: str, max_batch: int = 200
    ) -> None:
        self._sessions = sessions
        self._owner = owner
        self._max_batch = max_batch
        self._queue: list[tuple[Outcome, asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def save(self, outcome: Outcome) -> bool:
        """True once saved; False when the job's lease had been lost."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((outcome, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            try:
                saved = await leases.record(
                    self._sessions, self._owner, [outcome for outcome, _ in batch]
                )
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), ok in zip(batch, saved, strict=True):
                if not future.done():
                    future.set_result(ok)
