"""Finds the CRM configuration for a request and hands out its (cached) adapter, its
mappings, workflows and interaction start-up steps.

Configuration rows and the card's dynamic data mapping are cached for
``CONFIG_TTL_SECONDS``: the hot path (every interaction event and card) reads no
configuration from the database within that time. A change made
through this process (the admin API, ``config apply`` in-process) drops the cache when its
transaction commits; a change made by another replica sharing the database is seen when the
cached row is next re-read, i.e. within ``CONFIG_TTL_SECONDS`` (the adapter is rebuilt when
the re-read row's ``updated_at`` differs).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime
from itertools import chain
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from crm.config import DynamicDataMapping, MemorializationWorkflow, Workflow
from crm.errors import ConfigError, NotFoundError
from crm.mappings import MemorializationMapping
from crm.protocol import CrmAdapter
from crm.registry import AdapterContext, create_adapter
from crm.secrets import SecretBox, load_secret_box, resolve_secret
from crm.startup import DEFAULT_STARTUP, StartupStep

from .observability.instrumented import InstrumentedAdapter, token_refresh_hook
from .observability.metrics import Metrics
from .settings import Settings
from .storage.config_tables import (
    ConfigurationRow,
    DynamicDataMappingRow,
    MemorializationMappingRow,
    WorkflowRow,
)
from .storage.db import create_demo_crm_engine

__all__ = ["CrmDirectory", "CONFIG_TTL_SECONDS"]

_workflow = TypeAdapter(Workflow)
_steps = TypeAdapter(list[StartupStep])

# How long a cached configuration row is used without looking at the database: the bound
# on how late a change made by another replica is seen (docs/service.md).
CONFIG_TTL_SECONDS = 2.0
_DEFAULT_LOCK_KEY = 0x43435F44  # pg advisory lock id for creating the default configuration


class _ConfigChanges:
    """Counts committed changes to configuration rows made in this process.

    Session events note a flush or bulk statement that touches ``crm_configurations`` (or
    the dynamic data mappings) and
    bump ``generation`` when that transaction commits; a cached row read under an older
    generation is stale and re-read on its next use.
    """

    generation = 0
    _flag = "customer_card.configuration_changed"

    _rows = (ConfigurationRow, DynamicDataMappingRow)
    _tables = frozenset(row.__tablename__ for row in _rows)

    @classmethod
    def note_flush(cls, session: Session, _context: Any) -> None:
        if any(
            isinstance(obj, cls._rows) for obj in chain(session.new, session.dirty, session.deleted)
        ):
            session.info[cls._flag] = True

    @classmethod
    def note_statement(cls, state: ORMExecuteState) -> None:
        table = getattr(state.statement, "table", None)
        if (state.is_update or state.is_delete or state.is_insert) and getattr(
            table, "name", None
        ) in cls._tables:
            state.session.info[cls._flag] = True

    @classmethod
    def committed(cls, session: Session) -> None:
        if session.info.pop(cls._flag, False):
            cls.generation += 1

    @classmethod
    def rolled_back(cls, session: Session) -> None:
        session.info.pop(cls._flag, None)


event.listen(Session, "after_flush", _ConfigChanges.note_flush)
event.listen(Session, "do_orm_execute", _ConfigChanges.note_statement)
event.listen(Session, "after_commit", _ConfigChanges.committed)
event.listen(Session, "after_rollback", _ConfigChanges.rolled_back)


_Stamp = tuple[float, int]  # when a cached value was read: monotonic time, change generation


def _stamp() -> _Stamp:
    """Taken before the read: a change committed during it makes the value stale."""
    return time.monotonic(), _ConfigChanges.generation


def _fresh(stamp: _Stamp) -> bool:
    read_at, generation = stamp
    return (
        generation == _ConfigChanges.generation and time.monotonic() - read_at < CONFIG_TTL_SECONDS
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
            row = await _default_row(session)
        if row is not None:
            self._default = (row.id, stamp)
        return row.id if row is not None else None

    async def _find_or_create_default(self) -> str:
        async with self._default_lock, self._sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                # Replicas starting together on an empty database must create one default,
                # not one each: serialize the check-then-insert across processes.
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DEFAULT_LOCK_KEY}
                )
            row = await _default_row(session)
            if row is None:
                # imported here: the workflow defaults import the configuration model
                from crm.workflows import default_workflows

                row = ConfigurationRow(
                    id=f"cfg-{uuid.uuid4().hex[:12]}",
                    name="Demo CRM",
                    description="Built-in demo CRM with sample data",
                    type="demo",
                    status="active",
                    is_default=True,
                    settings={},
                    secrets={},
                )
                session.add(row)
                await session.flush()
                for position, workflow in enumerate(default_workflows("demo")):
                    workflow.id = f"wf-{uuid.uuid4().hex[:12]}"
                    session.add(
                        WorkflowRow(
                            configuration_id=row.id,
                            id=workflow.id,
                            name=workflow.name,
                            kind=workflow.kind,
                            status=workflow.status,
                            position=position,
                            spec=workflow.model_dump(mode="json", by_alias=True),
                        )
                    )
            return row.id

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
            if mapping_id:
                row = await session.get(DynamicDataMappingRow, (configuration_id, mapping_id))
                if row is None:
                    raise NotFoundError(
                        f"Unknown dynamic data mapping {mapping_id} in configuration "
                        f"{configuration_id}",
                        code="unknown_dynamic_mapping",
                        field="options.dynamicDataMappingId",
                    )
                return DynamicDataMapping.model_validate(row.spec)
            row = (
                (
                    await session.execute(
                        select(DynamicDataMappingRow)
                        .where(
                            DynamicDataMappingRow.configuration_id == configuration_id,
                            DynamicDataMappingRow.status == "active",
                        )
                        .order_by(DynamicDataMappingRow.position, DynamicDataMappingRow.created_at)
                    )
                )
                .scalars()
                .first()
            )
        return DynamicDataMapping.model_validate(row.spec) if row is not None else None

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
                for workflow in await self.workflows(configuration_id):
                    if (
                        isinstance(workflow, MemorializationWorkflow)
                        and workflow.status == "active"
                        and workflow.mapping_id
                    ):
                        mapping_id = workflow.mapping_id
                        break
            if mapping_id is not None:
                row = await session.get(MemorializationMappingRow, (configuration_id, mapping_id))
            else:
                row = (
                    (
                        await session.execute(
                            select(MemorializationMappingRow)
                            .where(
                                MemorializationMappingRow.configuration_id == configuration_id,
                                MemorializationMappingRow.status == "active",
                            )
                            .order_by(
                                MemorializationMappingRow.position,
                                MemorializationMappingRow.created_at,
                            )
                        )
                    )
                    .scalars()
                    .first()
                )
        if row is None or row.status != "active":
            return None
        spec = {k: v for k, v in row.spec.items() if k != "status"}
        return MemorializationMapping.model_validate(spec)

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
            rows = (
                (
                    await session.execute(
                        select(WorkflowRow)
                        .where(WorkflowRow.configuration_id == configuration_id)
                        .order_by(WorkflowRow.position, WorkflowRow.created_at)
                    )
                )
                .scalars()
                .all()
            )
        return [_workflow.validate_python(row.spec) for row in rows]

    async def workflow(self, configuration_id: str, workflow_id: str) -> Workflow:
        """An active workflow of the configuration; NotFoundError naming ``workflowId``."""
        async with self._sessions() as session:
            row = await session.get(WorkflowRow, (configuration_id, workflow_id))
        if row is None or row.status != "active":
            state = "Unknown" if row is None else "Inactive"
            raise NotFoundError(
                f"{state} workflow {workflow_id} in configuration {configuration_id}",
                code="unknown_workflow",
                field="workflowId",
            )
        return _workflow.validate_python(row.spec)

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
        return AdapterContext(
            configuration_id=row.id,
            type=row.type,
            label=row.name,
            settings=dict(row.settings or {}),
            secrets=self._resolve_secrets(row.secrets or {}),
            http=self._http,
            default_phone_region=self._settings.default_phone_region,
            data_dir=self._settings.data_dir,
            extra={
                "demo_crm_url": self._settings.effective_demo_crm_url,
                "demo_crm_links": self._settings.demo_crm_links,
                "demo_crm_engine": create_demo_crm_engine,
                "on_token_refresh": (
                    token_refresh_hook(self._metrics, row.type)
                    if self._metrics is not None
                    else None
                ),
            },
        )

    def _resolve_secrets(self, stored: dict[str, str]) -> dict[str, str]:
        """Plain values for the adapter: literals decrypted, env:/file: references read now
        (so a rotated secret is picked up when the adapter is next built)."""
        return {
            name: resolve_secret(name, value, self.secret_box) for name, value in stored.items()
        }


async def _default_row(session: AsyncSession) -> ConfigurationRow | None:
    """The configuration marked default, else any (the first one made, on a young database)."""
    row = (
        (
            await session.execute(
                select(ConfigurationRow).where(ConfigurationRow.is_default.is_(True))
            )
        )
        .scalars()
        .first()
    )
    if row is None:
        row = (await session.execute(select(ConfigurationRow))).scalars().first()
    return row
