"""The interactions' way to the CRM: a configuration's adapter, its metadata catalog and
calls bounded by the configured timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from crm.errors import CrmUnavailableError
from crm.protocol import CrmAdapter

from ..crm_directory import CrmDirectory
from ..settings import Settings
from .catalog import CrmCatalog

__all__ = ["CrmAccess", "DIALOG_SECONDS"]

DIALOG_SECONDS = 4.5  # dialog submits must be answered within 5 s


class CrmAccess:
    def __init__(self, directory: CrmDirectory, settings: Settings) -> None:
        self.directory = directory
        self._timeout = settings.crm_timeout_seconds
        self.catalog = CrmCatalog(self.adapter)
        # configuration -> the CRM's name as last seen ("" before its first call)
        self.labels: dict[str, str] = {}

    async def adapter(self, configuration_id: str) -> CrmAdapter:
        adapter = await self.directory.adapter(configuration_id)
        self.labels[configuration_id] = adapter.system.label
        return adapter

    async def call(self, call: Awaitable[Any], seconds: float | None = None) -> Any:
        """A CRM call bounded by the configured timeout (Teams waits 15 s at most)."""
        limit = min(self._timeout, seconds or 12.0)
        try:
            async with asyncio.timeout(limit):
                return await call
        except TimeoutError:
            raise CrmUnavailableError(
                f"CRM call took longer than {limit}s", timed_out=True
            ) from None

    async def aclose(self) -> None:
        await self.catalog.aclose()
