"""Several jobs' writes to one configuration's CRM in one request, where the CRM takes
several records at once (``crm.record_write.batch_limit`` above 1: HubSpot's batch
endpoints).

Each configuration has at most one sender at a time. A job's write waits in its
configuration's queue; the sender takes the head of the queue (up to the adapter's limit)
only once the configuration's limiter has given it a slot, so the writes that queued while
it waited ride along. An idle CRM gets each write at once; a throttled one, whose slots are
far apart, gets fuller requests, and the jobs drain at the batch size times its quota.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from crm.models import RecordWrite, TimelineRef
from crm.protocol import WriteOutcome

__all__ = ["Queued", "SendBatch", "WriteBatcher"]


@dataclass
class Queued:
    """One job's write waiting for its batch; ``done`` gets its outcome and its share of
    the batch's CRM requests."""

    write: RecordWrite
    done: asyncio.Future[tuple[WriteOutcome, float]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, outcome: WriteOutcome, share: float) -> None:
        if not self.done.done():
            self.done.set_result((outcome, share))

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


# sends one batch: ``take()`` (call it once the limiter gave a slot) hands out the writes
SendBatch = Callable[[Callable[[], list[Queued]]], Awaitable[None]]


class WriteBatcher:
    def __init__(self) -> None:
        self._queues: dict[str, list[Queued]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}

    async def write(
        self, key: str, write: RecordWrite, limit: int, send: SendBatch
    ) -> tuple[TimelineRef | None, float]:
        """The write's activity reference and its share of the CRM requests its batch
        made; raises the write's own ``CrmError``, or the whole batch's."""
        item = Queued(write)
        self._queues.setdefault(key, []).append(item)
        if key not in self._senders:
            self._senders[key] = asyncio.create_task(
                self._send_all(key, limit, send), name=f"memorialization-batch-{key}"
            )
        outcome, share = await item.done  # cancelled (shutdown): the sender skips it
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome, share

    async def aclose(self) -> None:
        senders = list(self._senders.values())
        for sender in senders:
            sender.cancel()
        await asyncio.gather(*senders, return_exceptions=True)

    def _take(self, key: str, limit: int) -> list[Queued]:
        queue = self._queues.get(key, [])
        live = [item for item in queue if not item.done.done()]
        batch, self._queues[key] = live[:limit], live[limit:]
        return batch

    def _waiting(self, key: str) -> bool:
        return any(not item.done.done() for item in self._queues.get(key, []))

    async def _send_all(self, key: str, limit: int, send: SendBatch) -> None:
        try:
            while self._waiting(key):
                await self._send_one(key, limit, send)
        finally:
            self._senders.pop(key, None)
            if not self._queues.get(key):
                self._queues.pop(key, None)

    async def _send_one(self, key: str, limit: int, send: SendBatch) -> None:
        taken: list[Queued] = []

        def take() -> list[Queued]:
            taken.extend(self._take(key, limit))
            return taken

        try:
            await send(take)
        except BaseException as exc:
            for item in taken:
                item.fail(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        for item in taken:  # a sender that settled none fails them, never hangs them
            item.fail(RuntimeError("the batch ended without an outcome"))
