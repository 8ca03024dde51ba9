"""Finds the CRM configuration for a request and hands out its (cached) adapter."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from crm.errors import NotFoundError
from crm.protocol import CrmAdapter
from crm.registry import AdapterContext, create_adapter

from .settings import Settings
from .storage.config_tables import ConfigurationRow

__all__ = ["CrmDirectory"]


class CrmDirectory:
    """Configuration look-up and one adapter per configuration (rebuilt when it changes)."""

    def __init__(self, sessions: async_sessionmaker, settings: Settings,  # type: ignore[type-arg]
                 http: httpx.AsyncClient) -> None:
        self._sessions = sessions
        self._settings = settings
        self._http = http
        self._adapters: dict[str, tuple[datetime, CrmAdapter]] = {}
        self._lock = asyncio.Lock()

    async def ensure_default(self) -> str:
        """The default configuration's id; creates one on the demo CRM when none exists."""
        async with self._sessions() as session, session.begin():
            row = (await session.execute(
                select(ConfigurationRow).where(ConfigurationRow.is_default.is_(True))
            )).scalars().first()
            if row is None:
                row = (await session.execute(select(ConfigurationRow))).scalars().first()
            if row is None:
                row = ConfigurationRow(
                    id=f"cfg-{uuid.uuid4().hex[:12]}", name="Demo CRM",
                    description="Built-in demo CRM with sample data", type="demo",
                    status="active", is_default=True, settings={}, secrets={},
                )
                session.add(row)
            return row.id

    async def resolve_id(self, configuration_id: str | None) -> str:
        """The given id if it exists and is active, else the default's; NotFoundError if unknown."""
        if not configuration_id:
            return await self.ensure_default()
        row = await self._row(configuration_id)
        if row.status != "active":
            raise NotFoundError(f"Configuration {configuration_id} is inactive",
                                code="configuration_inactive", field="configurationId")
        return row.id

    async def adapter(self, configuration_id: str) -> CrmAdapter:
        row = await self._row(configuration_id)
        async with self._lock:
            cached = self._adapters.get(row.id)
            if cached is not None and cached[0] == row.updated_at:
                return cached[1]
            if cached is not None:
                await cached[1].aclose()
            adapter = create_adapter(self._context(row))
            self._adapters[row.id] = (row.updated_at, adapter)
            return adapter

    async def card_fields(self, configuration_id: str, record_type: str) -> list[str] | None:
        """Field names the card shows for a record type (the dynamic data mapping), or None
        when the configuration has none: callers then pick defaults from the field metadata."""
        return None

    async def aclose(self) -> None:
        for _, adapter in self._adapters.values():
            await adapter.aclose()
        self._adapters.clear()

    async def _row(self, configuration_id: str) -> ConfigurationRow:
        async with self._sessions() as session:
            row = await session.get(ConfigurationRow, configuration_id)
        if row is None:
            raise NotFoundError(f"Unknown configuration {configuration_id}",
                                code="unknown_configuration", field="configurationId")
        return row

    def _context(self, row: ConfigurationRow) -> AdapterContext:
        return AdapterContext(
            configuration_id=row.id, type=row.type, label=row.name,
            settings=dict(row.settings or {}),
            secrets=self._resolve_secrets(row.secrets or {}),
            http=self._http, default_phone_region=self._settings.default_phone_region,
            data_dir=self._settings.data_dir,
            extra={"demo_crm_url": self._settings.effective_demo_crm_url},
        )

    def _resolve_secrets(self, stored: dict[str, str]) -> dict[str, str]:
        # Replaced by crm.secrets (encryption at rest, env:/file: references) in the
        # configuration model work; plain values only until then.
        return {name: value for name, value in stored.items() if not value.startswith("enc:")}
