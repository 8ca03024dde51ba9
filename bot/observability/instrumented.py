"""CRM calls counted and timed: ``InstrumentedAdapter`` wraps any ``CrmAdapter``.

Each call is counted in ``customer_card_crm_calls_total`` by configuration, CRM type,
operation and outcome (``ok`` or the ``CrmError`` code) and timed in
``customer_card_crm_call_seconds``. The wrapper adds no behaviour: results and errors pass
through unchanged, so the service cannot tell it from the adapter it wraps.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from crm.models import (
    CrmRecord,
    CrmSystem,
    FieldInfo,
    FieldValue,
    RecordType,
    RecordWrite,
    SearchQuery,
    TimelineActivity,
    TimelineRef,
)
from crm.protocol import BatchWriting, CrmAdapter, WriteOutcome
from crm.record_write import batch_limit, write_each

from .metrics import Metrics, error_outcome

__all__ = ["InstrumentedAdapter", "token_refresh_hook"]

T = TypeVar("T")


class InstrumentedAdapter:
    """A ``CrmAdapter`` that delegates to ``adapter`` and records every call in ``metrics``."""

    def __init__(self, adapter: CrmAdapter, metrics: Metrics, configuration_id: str) -> None:
        self._adapter = adapter
        self._metrics = metrics
        self._configuration_id = configuration_id
        self._crm = adapter.system.type

    @property
    def wrapped(self) -> CrmAdapter:
        """The adapter underneath (for code that needs its concrete type, e.g. the demo pages)."""
        return self._adapter

    @property
    def system(self) -> CrmSystem:
        return self._adapter.system

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        return await self._observe("search", lambda: self._adapter.search(query))

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        return await self._observe("get", lambda: self._adapter.get(record_type, record_id))

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        return await self._observe("related", lambda: self._adapter.related(record, limit))

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        return await self._observe("create", lambda: self._adapter.create(record_type, fields))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        return await self._observe(
            "update", lambda: self._adapter.update(record_type, record_id, fields)
        )

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        return await self._observe("add_timeline", lambda: self._adapter.add_timeline(activity))

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        return await self._observe("write_record", lambda: self._adapter.write_record(write))

    @property
    def write_batch_limit(self) -> int:
        return batch_limit(self._adapter)

    async def write_records(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        adapter = self._adapter
        if isinstance(adapter, BatchWriting):
            return await self._observe("write_records", lambda: adapter.write_records(writes))
        return await write_each(self.write_record, writes)

    async def list_record_types(self) -> list[RecordType]:
        return await self._observe("list_record_types", self._adapter.list_record_types)

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        return await self._observe("list_fields", lambda: self._adapter.list_fields(record_type))

    def record_url(self, record_type: str, record_id: str) -> str:
        return self._adapter.record_url(record_type, record_id)  # no I/O: not counted

    async def check(self) -> list[str]:
        return await self._observe("check", self._adapter.check)

    async def aclose(self) -> None:
        await self._adapter.aclose()

    async def _observe(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        labels = (self._configuration_id, self._crm, operation)
        started = time.perf_counter()
        try:
            result = await call()
        except Exception as exc:
            self._metrics.crm_calls.labels(*labels, error_outcome(exc)).inc()
            raise
        finally:
            # failures are timed too: a CRM that times out shows in the slowest bucket
            self._metrics.crm_latency.labels(*labels).observe(time.perf_counter() - started)
        self._metrics.crm_calls.labels(*labels, "ok").inc()
        return result


def token_refresh_hook(metrics: Metrics, crm: str) -> Callable[[], None]:
    """A ``TokenManager(on_refresh=...)`` callback counting minted tokens for ``crm``."""
    return lambda: metrics.count_token_refresh(crm)
