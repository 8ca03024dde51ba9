"""``CrmDirectory``: a configuration's row (cached), its adapter (one per configuration,
rebuilt when the row changes), its secrets, start-up steps, mappings and workflows."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.config import DynamicDataMapping, Workflow
from crm.errors import ConfigError, NotFoundError
from crm.mappings import MemorializationMapping
from crm.protocol import CrmAdapter
from crm.registry import AdapterContext, create_adapter
from crm.secrets import SecretBox, load_secret_box, resolve_secret
from crm.startup import DEFAULT_STARTUP, StartupStep

from ..observability.instrumented import InstrumentedAdapter, token_refresh_hook
from ..observability.metrics import Metrics
from ..settings import Settings
from ..storage.config_tables import ConfigurationRow
from ..storage.db import create_demo_crm_engine
from . import specs
from .changes import ConfigChanges
from .default import default_row, find_or_create_default

__all__ = ["CrmDirectory", "CONFIG_TTL_SECONDS"]

_steps = TypeAdapter(list[StartupStep])

# How long a cached configuration row is used without looking at the database: the bound
# on how late a change made by another replica is seen (docs/service.md).
CONFIG_TTL_SECONDS = 2.0

_Stamp = tuple[float, int]  # when a cached value was read: monotonic time, change generation


def _stamp() -> _Stamp:
    """Taken before the read: a change committed during it makes the value stale."""
    return time.monotonic(), ConfigChanges.generation


def _fresh(stamp: _Stamp) -> bool:
    read_at, generation = stamp
    return (
        generation == ConfigChanges.generation and time.monotonic() - read_at < CONFIG_TTL_SECONDS
    )


class _Cached:
    """A configuration row as read at ``stamp``, with its parsed start-up steps."""

    __slots__ = ("row", "stamp", "steps")

    def __init__(self, row: ConfigurationRow, stamp: _Stamp) -> None:
        self.row = row
        self.stamp = stamp
        self.steps: list[StartupStep] | None = None


class CrmDirectory:
    """Configuration look-up and one adapter per configuration (rebuilt when it changes)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._default_lock = asyncio.Lock()  # one check-then-insert at a time per process
        self._sessions = sessions
        self._settings = settings
        self._http = http
        self._adapters: dict[str, tuple[datetime, CrmAdapter]] = {}
        self._lock = asyncio.Lock()
        self._box: SecretBox | None = None
        self._rows: dict[str, _Cached] = {}
        self._default: tuple[str, _Stamp] | None = None
        # configuration id -> (mapping, read at, generation)
        self._card_mappings: dict[str, tuple[DynamicDataMapping | None, _Stamp]] = {}

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    @property
    def secret_box(self) -> SecretBox:
        """Encrypts secrets at rest: ``secret_key`` from settings, else the key file under
        ``data_dir`` (created on first use)."""
        if self._box is None:
            self._box = load_secret_box(
                self._settings.secret_key.get_secret_value(), self._settings.data_dir
            )
        return self._box

    async def ensure_default(self) -> str:
        """The default configuration's id; creates one on the demo CRM when none exists.

        The id is cached like the rows (see the module docstring)."""
        cached = self._default
        if cached is not None and _fresh(cached[1]):
            return cached[0]
        stamp = _stamp()
        config_id = await self._find_or_create_default()
        self._default = (config_id, stamp)
        return config_id

    async def find_default(self) -> str | None:
        """The default configuration's id, None when there is none; never creates one (a
        worker of ``serve --workers``, whose parent process has made it)."""
        stamp = _stamp()
        async with self._sessions() as session:
            row = await default_row(session)
        if row is not None:
            self._default = (row.id, stamp)
        return row.id if row is not None else None

    async def _find_or_create_default(self) -> str:
        async with self._default_lock, self._sessions() as session, session.begin():
            return await find_or_create_default(session)

    async def resolve_id(self, configuration_id: str | None) -> str:
        """The given id if it exists and is active, else the default's; NotFoundError if unknown."""
        if not configuration_id:
            return await self.ensure_default()
        row = await self._row(configuration_id)
        if row.status != "active":
            raise NotFoundError(
                f"Configuration {configuration_id} is inactive",
                code="configuration_inactive",
                field="configurationId",
            )
        return row.id

    async def adapter(self, configuration_id: str) -> CrmAdapter:
        """The configuration's adapter, rebuilt when its row's ``updated_at`` changed."""
        row = await self._row(configuration_id)
        cached = self._adapters.get(row.id)
        if cached is not None and cached[0] == row.updated_at:
            return cached[1]  # the common case needs no lock
        async with self._lock:
            cached = self._adapters.get(row.id)
            if cached is not None and cached[0] == row.updated_at:
                return cached[1]
            if cached is not None:
                await cached[1].aclose()
            adapter = create_adapter(self._context(row))
            if self._metrics is not None:  # CRM calls counted and timed per configuration
                adapter = InstrumentedAdapter(adapter, self._metrics, row.id)
            self._adapters[row.id] = (row.updated_at, adapter)
            return adapter

    async def forget(self, configuration_id: str) -> None:
        """Close and drop the cached adapter of a deleted configuration."""
        self._rows.pop(configuration_id, None)
        self._card_mappings.pop(configuration_id, None)
        self._default = None
        async with self._lock:
            cached = self._adapters.pop(configuration_id, None)
        if cached is not None:
            await cached[1].aclose()

    async def secret_values(self, configuration_id: str) -> list[str]:
        """The configuration's resolvable secret values, for redacting texts (never shown)."""
        try:
            row = await self._row(configuration_id)
        except NotFoundError:
            return []
        values: list[str] = []
        for name, stored in (row.secrets or {}).items():
            try:
                values.append(resolve_secret(name, stored, self.secret_box))
            except ConfigError:
                continue
        return values

    # ---------------------------------------------------- mappings and workflows

    async def dynamic_mapping(
        self, configuration_id: str, mapping_id: str | None = None
    ) -> DynamicDataMapping | None:
        """The named dynamic data mapping (NotFoundError if unknown), or without a name the
        configuration's first active one (None when it has none)."""
        async with self._sessions() as session:
            return await specs.dynamic_mapping(session, configuration_id, mapping_id)

    async def card_mapping(self, configuration_id: str) -> DynamicDataMapping | None:
        """The configuration's card mapping (its first active dynamic data mapping), cached
        like the configuration rows; None when it has none."""
        cached = self._card_mappings.get(configuration_id)
        if cached is not None and _fresh(cached[1]):
            return cached[0]
        stamp = _stamp()
        mapping = await self.dynamic_mapping(configuration_id)
        self._card_mappings[configuration_id] = (mapping, stamp)
        return mapping

    async def card_fields(self, configuration_id: str, record_type: str) -> list[str] | None:
        """Field names the card shows for a record type (the dynamic data mapping), or None
        when the configuration has none: callers then pick defaults from the field metadata."""
        mapping = await self.card_mapping(configuration_id)
        return mapping.fields_for(record_type) if mapping is not None else None

    async def memorialization_mapping(
        self, configuration_id: str, mapping_id: str | None = None
    ) -> MemorializationMapping | None:
        """The named mapping, or the one the configuration's memorialization workflow names,
        or its first active mapping; None when there is none (or it is inactive)."""
        async with self._sessions() as session:
            if mapping_id is None:
                workflows = await specs.workflows(session, configuration_id)
                mapping_id = specs.memorialization_mapping_id(workflows)
            return await specs.memorialization_mapping(session, configuration_id, mapping_id)

    async def startup_steps(self, configuration_id: str) -> list[StartupStep]:
        """The configuration's interaction start-up steps, or the built-in default."""
        cached = await self._cached(configuration_id)
        if cached.steps is None:
            row = cached.row
            cached.steps = (
                list(DEFAULT_STARTUP) if not row.startup else _steps.validate_python(row.startup)
            )
        return list(cached.steps)

    async def workflows(self, configuration_id: str) -> list[Workflow]:
        async with self._sessions() as session:
            return await specs.workflows(session, configuration_id)

    async def workflow(self, configuration_id: str, workflow_id: str) -> Workflow:
        """An active workflow of the configuration; NotFoundError naming ``workflowId``."""
        async with self._sessions() as session:
            return await specs.workflow(session, configuration_id, workflow_id)

    async def aclose(self) -> None:
        for _, adapter in self._adapters.values():
            await adapter.aclose()
        self._adapters.clear()

    async def _row(self, configuration_id: str) -> ConfigurationRow:
        return (await self._cached(configuration_id)).row

    async def _cached(self, configuration_id: str) -> _Cached:
        """The configuration row, from the cache while it is fresh. Callers must not change
        the row (it is shared)."""
        cached = self._rows.get(configuration_id)
        if cached is not None and _fresh(cached.stamp):
            return cached
        stamp = _stamp()
        async with self._sessions() as session:
            row = await session.get(ConfigurationRow, configuration_id)
        if row is None:
            self._rows.pop(configuration_id, None)
            raise NotFoundError(
                f"Unknown configuration {configuration_id}",
                code="unknown_configuration",
                field="configurationId",
            )
        fresh = _Cached(row, stamp)
        if cached is not None and cached.row.startup == row.startup:
            fresh.steps = cached.steps  # parsed once per change, not per re-read
        self._rows[configuration_id] = fresh
        return fresh

    def _context(self, row: ConfigurationRow) -> AdapterContext:
        return self.adapter_context(
            row.id,
            row.type,
            label=row.name,
            settings=dict(row.settings or {}),
            secrets=self.resolve_secrets(row.secrets or {}),
        )

    def adapter_context(
        self,
        configuration_id: str,
        type_: str,
        *,
        label: str,
        settings: dict[str, Any],
        secrets: dict[str, str],
    ) -> AdapterContext:
        """What an adapter of this configuration is built from: its settings and plain
        secrets, and the service's HTTP client, settings and token-refresh metric."""
        return AdapterContext(
            configuration_id=configuration_id,
            type=type_,
            label=label,
            settings=settings,
            secrets=secrets,
            http=self._http,
            default_phone_region=self._settings.default_phone_region,
            data_dir=self._settings.data_dir,
            extra={
                "demo_crm_url": self._settings.effective_demo_crm_url,
                "demo_crm_links": self._settings.demo_crm_links,
                "demo_crm_engine": create_demo_crm_engine,
                "on_token_refresh": (
                    token_refresh_hook(self._metrics, type_) if self._metrics is not None else None
                ),
            },
        )

    def resolve_secrets(self, stored: dict[str, str]) -> dict[str, str]:
        """Plain values for the adapter: literals decrypted, env:/file: references read now
        (so a rotated secret is picked up when the adapter is next built)."""
        return {
            name: resolve_secret(name, value, self.secret_box) for name, value in stored.items()
        }
