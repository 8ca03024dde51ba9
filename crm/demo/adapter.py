"""The built-in demo CRM: a real ``CrmAdapter`` over its own SQLite (or PostgreSQL) tables.

It stands in for a customer's CRM in development, demos and benchmarks: the same verbs,
validation and error types as the vendor adapters, sample data with phone numbers stored the
way people type them, and an optional per-call latency (``latency_ms``) so it can play a
slow remote CRM. Settings (a configuration's non-secret ``settings``):

* ``base_url``   public base of the record links (default
  ``AdapterContext.extra["demo_crm_links"]``: the service's public URL, or localhost on its
  port, + ``/demo-crm``)
* ``seed``       ``"sample"`` (default: sample data when the database is empty) or ``"empty"``
* ``latency_ms`` milliseconds every call waits before it runs (default 0)

The database URL comes from ``AdapterContext.extra["demo_crm_url"]``, the engine from
``extra["demo_crm_engine"]``: the service hands in its storage's engine factory (SQLite on
the event loop's thread, writers queued on a write gate), so the demo CRM shares the
service's process and database file the way its own tables do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import CrmRejectedError
from ..models import (
    CrmRecord,
    DynamicSearch,
    EmailSearch,
    FieldInfo,
    FieldValue,
    IdSearch,
    PhoneSearch,
    RecordType,
    RecordWrite,
    SearchQuery,
    TextSearch,
    TimelineActivity,
    TimelineRef,
)
from ..record_write import write_in_turn
from ..registry import AdapterContext, register
from .database import _MAX_LIMIT, DEFAULT_BASE_URL, DemoDatabase, _now, plain_engine
from .query import dynamic_clause
from .schema import CALLER_TYPES, TABLES, TEXT_TYPES, TYPES, TypeSpec
from .settings import DemoSettings
from .statements import (
    reference_columns,
    related_statement,
    search_statement,
    search_values,
)
from .timeline import stored_key, task_fields
from .values import validate_fields

__all__ = ["DemoCrm", "create"]

log = logging.getLogger(__name__)


class DemoCrm(DemoDatabase):
    """The demo CRM adapter. Tables are created, and sample data seeded, on first use."""

    # --- the adapter protocol ------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        """Records matching the query (see the module docstring of ``crm.demo_query``)."""
        limit = min(getattr(query, "limit", 1), _MAX_LIMIT)
        if isinstance(query, IdSearch):
            spec = self._spec(query.record_type)
            table = TABLES[spec.name]
            async with self._connection() as conn:
                return await self._select(conn, spec, table.c.id == query.id, 1)
        if isinstance(query, DynamicSearch):
            spec = self._spec(query.record_type)
            where = dynamic_clause(spec, query.conditions, query.join)
            async with self._connection() as conn:
                return await self._select(conn, spec, where, limit)
        return await self._search_types(query, limit)

    async def _search_types(
        self, query: PhoneSearch | EmailSearch | TextSearch, limit: int
    ) -> list[CrmRecord]:
        default = TEXT_TYPES if isinstance(query, TextSearch) else CALLER_TYPES
        names = query.record_types or default
        known = [name for name in names if name in TYPES]
        if known != names:  # like every adapter: skip a type the CRM lacks, unless all are
            log.warning("search skips record types the demo CRM lacks: %s", set(names) - {*known})
        specs = [self._spec(name) for name in known or names]
        values = search_values(query, self._region)
        typed = search_statement(query.by, tuple(spec.name for spec in specs))
        async with self._connection() as conn:
            if values is None or limit <= 0:  # as if each type's SELECT found nothing
                return []
            rows = (await conn.execute(typed.statement, {**values, "limit": limit})).mappings()
            return [self._record(typed.spec_of(row), row) for row in rows]

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        spec = self._spec(record_type)
        async with self._connection() as conn:
            return self._record(spec, await self._row(conn, spec, record_id))

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        spec = self._spec(record_type)
        values = validate_fields(spec, fields, creating=True)
        async with self._connection(write=True) as conn:
            record_id = await self._insert(conn, spec, values)
            return self._record(spec, await self._row(conn, spec, record_id))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        spec = self._spec(record_type)
        values = validate_fields(spec, fields, creating=False)
        table = TABLES[spec.name]
        async with self._connection(write=True) as conn:
            await self._row(conn, spec, record_id)
            await self._check_references(conn, spec, values)
            await conn.execute(
                table.update()
                .where(table.c.id == record_id)
                .values(updated_at=_now(), **self._with_phone_keys(spec, values))
            )
            return self._record(spec, await self._row(conn, spec, record_id))

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        """The account, its other contacts, open cases of the record and of its account,
        and active subscriptions."""
        spec = self._spec(record.type)
        async with self._connection() as conn:
            row = await self._row(conn, spec, record.id)
            found = await self._related(conn, spec, row, limit)
        unique: dict[tuple[str, str], CrmRecord] = {}
        for item in found:
            if (item.type, item.id) != (spec.name, record.id):
                unique.setdefault((item.type, item.id), item)
        return list(unique.values())[:limit]

    async def _related(
        self, conn: AsyncConnection, spec: TypeSpec, row: RowMapping, limit: int
    ) -> list[CrmRecord]:
        account_id = row["id"] if spec.name == "account" else row.get("account_id")
        contact_id = row["id"] if spec.name == "contact" else row.get("contact_id")
        if spec.name == "task" and row["related_type"] in TYPES and row["related_id"]:
            target = TYPES[row["related_type"]]
            return await self._select(
                conn, target, TABLES[target.name].c.id == row["related_id"], 1
            )
        typed = related_statement(spec.name, bool(account_id), bool(contact_id), limit + 1 > 0)
        if typed is None:
            return []
        rows = (
            await conn.execute(
                typed.statement,
                {
                    "account_id": account_id,
                    "contact_id": contact_id,
                    "more": limit + 1,
                },
            )
        ).mappings()
        return [self._record(typed.spec_of(row), row) for row in rows]

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """The values, then the task (its key is checked in the same transaction anyway)."""
        return await write_in_turn(write, self.update, lambda a, _: self.add_timeline(a))

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        """A completed task linked to the record, once per ``activity.key``."""
        spec = self._spec(activity.record_type)
        if not spec.info.supports_timeline:
            raise CrmRejectedError(
                f"Activities cannot be linked to a {spec.info.label}",
                field="record_type",
                vendor_status=400,
            )
        tasks = TABLES["task"]
        existing = select(tasks.c.id).where(tasks.c.activity_key == stored_key(activity.key))
        async with self._connection(write=True) as conn:
            await self._row(conn, spec, activity.record_id)
            found = await conn.scalar(existing)
            if found is not None:
                return TimelineRef(id=found, type="task", created=False)
            values = validate_fields(TYPES["task"], task_fields(activity), creating=True)
            try:
                async with conn.begin_nested():
                    task_id = await self._insert(conn, TYPES["task"], values)
            except IntegrityError:
                # another writer stored the same key between our check and insert
                return TimelineRef(id=str(await conn.scalar(existing)), type="task", created=False)
        return TimelineRef(id=task_id, type="task", created=True)

    async def timeline(self, record_type: str, record_id: str) -> list[CrmRecord]:
        """Tasks linked to a record, oldest first (the demo's "activity history")."""
        tasks = TABLES["task"]
        where = (tasks.c.related_type == record_type) & (tasks.c.related_id == record_id)
        async with self._connection() as conn:
            rows = (
                (
                    await conn.execute(
                        select(tasks, *reference_columns("task"))
                        .where(where)
                        .order_by(tasks.c.created_at, tasks.c.id)
                    )
                )
                .mappings()
                .all()
            )
        return [self._record(TYPES["task"], row) for row in rows]

    async def list_record_types(self) -> list[RecordType]:
        await self._pause()
        return [spec.info.model_copy() for spec in TYPES.values()]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        await self._pause()
        return [info.model_copy(deep=True) for info in self._spec(record_type).fields]

    async def check(self) -> list[str]:
        async with self._connection() as conn:
            await conn.scalar(select(func.count()).select_from(TABLES["contact"]))
        return []

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._ready = False


@register("demo", DemoSettings)
def create(context: AdapterContext, settings: DemoSettings) -> DemoCrm:
    """The demo CRM of a configuration (database URL from ``context.extra``)."""
    url = context.extra.get("demo_crm_url") or (
        f"sqlite+aiosqlite:///{(context.data_dir / 'demo-crm.db').resolve()}"
    )
    return DemoCrm(
        url,
        label=context.label or "Demo CRM",
        base_url=settings.base_url or context.extra.get("demo_crm_links") or DEFAULT_BASE_URL,
        region=context.default_phone_region,
        latency_ms=settings.latency_ms,
        seed=settings.seed,
        open_engine=context.extra.get("demo_crm_engine") or plain_engine,
    )
