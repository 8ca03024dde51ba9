"""Cached CRM metadata per configuration: record types and their fields.

The card never waits for metadata: without it, fields are chosen and labelled from the
record's own values, and the metadata is fetched in the background for the next render.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from crm.errors import CrmError
from crm.models import FieldInfo, RecordType
from crm.protocol import CrmAdapter

__all__ = ["CrmCatalog"]

log = logging.getLogger(__name__)

_TTL_SECONDS = 600.0


class CrmCatalog:
    def __init__(self, adapter_for: Callable[[str], Awaitable[CrmAdapter]]) -> None:
        self._adapter_for = adapter_for
        self._types: dict[str, tuple[float, list[RecordType]]] = {}
        self._fields: dict[tuple[str, str], tuple[float, dict[str, FieldInfo]]] = {}
        self._inflight: dict[object, asyncio.Task[None]] = {}

    async def record_types(self, configuration_id: str) -> list[RecordType]:
        cached = self._types.get(configuration_id)
        if cached is not None and time.monotonic() - cached[0] < _TTL_SECONDS:
            return cached[1]
        adapter = await self._adapter_for(configuration_id)
        types = await adapter.list_record_types()
        self._types[configuration_id] = (time.monotonic(), types)
        return types

    async def fields(self, configuration_id: str, record_type: str) -> dict[str, FieldInfo]:
        key = (configuration_id, record_type)
        cached = self._fields.get(key)
        if cached is not None and time.monotonic() - cached[0] < _TTL_SECONDS:
            return cached[1]
        adapter = await self._adapter_for(configuration_id)
        fields = {f.name: f for f in await adapter.list_fields(record_type)}
        self._fields[key] = (time.monotonic(), fields)
        return fields

    def cached_types(self, configuration_id: str) -> list[RecordType] | None:
        cached = self._types.get(configuration_id)
        if cached is None:
            self._warm(configuration_id, self.record_types(configuration_id))
            return None
        return cached[1]

    def cached_fields(self, configuration_id: str, record_type: str) -> dict[str, FieldInfo] | None:
        cached = self._fields.get((configuration_id, record_type))
        if cached is None:
            self._warm((configuration_id, record_type), self.fields(configuration_id, record_type))
            return None
        return cached[1]

    def _warm(self, key: object, fetch: Awaitable[object]) -> None:
        if key in self._inflight:
            fetch.close()  # type: ignore[attr-defined]
            return

        async def run() -> None:
            try:
                await fetch
            except (TimeoutError, CrmError) as exc:
                log.info("CRM metadata for %s not available: %s", key, exc)
            finally:
                self._inflight.pop(key, None)

        self._inflight[key] = asyncio.get_running_loop().create_task(run())

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)
