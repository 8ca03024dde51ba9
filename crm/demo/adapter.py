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

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..errors import ConfigError, CrmError, CrmNotFoundError, CrmRejectedError, CrmUnavailableError
from ..models import (
    CrmRecord,
    CrmSystem,
    DynamicSearch,
    EmailSearch,
    FieldInfo,
    FieldValue,
    IdSearch,
    PhoneSearch,
    RecordRef,
    RecordType,
    SearchQuery,
    TextSearch,
    TimelineActivity,
    TimelineRef,
)
from ..registry import AdapterContext, register
from .query import dynamic_clause, title_order
from .schema import CALLER_TYPES, METADATA, TABLES, TEXT_TYPES, TYPES, TypeSpec, digits_column
from .seed import SAMPLE_RECORDS, PersonLike, SeedRecord, people_records
from .settings import DemoSettings
from .statements import (
    reference_columns,
    reference_label,
    related_statement,
    row_statement,
    search_statement,
    search_values,
)
from .timeline import stored_key, task_fields
from .values import output_value, phone_key, validate_fields

__all__ = ["DemoCrm", "DEFAULT_BASE_URL", "EngineFactory", "create"]

DEFAULT_BASE_URL = "http://localhost:3978/demo-crm"
_MAX_LIMIT = 200


def _now() -> datetime:
    return datetime.now(UTC)


EngineFactory = Callable[[str], AsyncEngine]


def _default_engine(url: str) -> AsyncEngine:
    return create_async_engine(url, pool_pre_ping=True)


async def lock_for_writing(conn: AsyncConnection) -> None:
    """On SQLite, start the transaction holding the file's write lock (``BEGIN IMMEDIATE``):
    a transaction that read a snapshot and then writes would otherwise fail when another
    connection committed in between. Other databases: nothing to do."""
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


class DemoCrm:
    """The demo CRM adapter. Tables are created, and sample data seeded, on first use."""

    def __init__(
        self,
        url: str,
        *,
        label: str = "Demo CRM",
        base_url: str = DEFAULT_BASE_URL,
        region: str = "DE",
        latency_ms: float = 0,
        seed: str = "sample",
        open_engine: EngineFactory = _default_engine,
    ) -> None:
        if seed not in ("sample", "empty"):
            raise ConfigError(f"Unknown demo CRM seed {seed!r} (sample or empty)", field="seed")
        if latency_ms < 0:
            raise ConfigError("latency_ms must not be negative", field="latency_ms")
        self._url = url
        self._label = label
        self._base_url = base_url.rstrip("/")
        self._region = region
        self._latency = latency_ms / 1000
        self._seed = seed
        self._open_engine = open_engine
        self._engine: AsyncEngine | None = None
        self._ready = False
        self._ready_lock = asyncio.Lock()

    # --- plumbing ------------------------------------------------------------------------

    @property
    def system(self) -> CrmSystem:
        return CrmSystem(type="demo", label=self._label, base_url=self._base_url)

    async def _pause(self) -> None:
        if self._latency:
            await asyncio.sleep(self._latency)

    async def _ready_engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = self._open_engine(self._url)
        if not self._ready:
            async with self._ready_lock:
                if not self._ready:
                    async with self._engine.begin() as conn:
                        await lock_for_writing(conn)  # one process creates and seeds
                        await conn.run_sync(METADATA.create_all)
                        if self._seed == "sample" and await self._is_empty(conn):
                            await self._insert_seed(conn, SAMPLE_RECORDS)
                    self._ready = True
        return self._engine

    @asynccontextmanager
    async def _connection(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection for one call, with database failures translated at this edge.
        Reads need no transaction of their own; ``write`` runs the call in one transaction
        that holds SQLite's write lock from its start."""
        await self._pause()
        try:
            engine = await self._ready_engine()
            async with engine.begin() if write else engine.connect() as conn:
                if write:
                    await lock_for_writing(conn)
                yield conn
        except CrmError:
            raise
        except IntegrityError as exc:
            raise CrmRejectedError(
                "The demo CRM refused the change", vendor_message=str(exc.orig)
            ) from exc
        except (SQLAlchemyError, OSError) as exc:
            raise CrmUnavailableError(
                "The demo CRM database is unavailable", vendor_message=type(exc).__name__
            ) from exc

    @staticmethod
    async def _is_empty(conn: AsyncConnection) -> bool:
        for name in ("account", "contact"):
            if await conn.scalar(select(func.count()).select_from(TABLES[name])):
                return False
        return True

    # --- seeding -------------------------------------------------------------------------

    async def seed(self, records: Iterable[SeedRecord]) -> dict[str, str]:
        """Insert seed records (``"@key"`` values refer to earlier records); key -> id."""
        async with self._connection(write=True) as conn:
            return await self._insert_seed(conn, records)

    async def seed_people(self, people: Iterable[PersonLike]) -> dict[str, str]:
        """Insert one contact per person and one account per company (for test datasets)."""
        return await self.seed(people_records(people))

    async def _insert_seed(
        self, conn: AsyncConnection, records: Iterable[SeedRecord]
    ) -> dict[str, str]:
        ids: dict[str, str] = {}
        for record_type, key, fields in records:
            resolved = {
                name: ids[value[1:]] if isinstance(value, str) and value.startswith("@") else value
                for name, value in fields.items()
            }
            spec = self._spec(record_type)
            values = validate_fields(spec, resolved, creating=True)
            ids[key] = await self._insert(conn, spec, values)
        return ids

    # --- rows and records ----------------------------------------------------------------

    def _spec(self, record_type: str) -> TypeSpec:
        spec = TYPES.get(record_type)
        if spec is None:
            raise CrmRejectedError(
                f"The demo CRM has no record type {record_type!r}",
                field="record_type",
                vendor_status=400,
            )
        return spec

    def _record(self, spec: TypeSpec, row: RowMapping) -> CrmRecord:
        fields = {info.name: output_value(info, row[info.name]) for info in spec.fields}
        title = " ".join(str(fields[name]) for name in spec.title_fields if fields.get(name))
        parents = {key: str(row[ref]) for ref, key in spec.parents.items() if row[ref]}
        if spec.name == "task" and row["related_type"] and row["related_id"]:
            parents[row["related_type"]] = row["related_id"]
        updated = row["updated_at"]
        if updated is not None and updated.tzinfo is None:
            updated = updated.replace(tzinfo=UTC)  # SQLite hands back naive timestamps
        return CrmRecord(
            type=spec.name,
            id=row["id"],
            title=title or f"{spec.info.label} {row['id']}",
            url=self.record_url(spec.name, row["id"]),
            fields=fields,
            updated_at=updated,
            parent_ids=parents,
            references=self._references(spec, row),
        )

    def _references(self, spec: TypeSpec, row: RowMapping) -> dict[str, RecordRef]:
        """The names the row's reference columns carry (see ``reference_columns``)."""
        targets = dict(spec.parents)
        if spec.name == "task" and row["related_type"]:
            targets["related_id"] = row["related_type"]
        found: dict[str, RecordRef] = {}
        for field, target in targets.items():
            name = row.get(reference_label(field))
            if row[field] and name:
                record_id = str(row[field])
                url = self.record_url(target, record_id)
                found[field] = RecordRef(type=target, id=record_id, name=name, url=url)
        return found

    async def _select(
        self, conn: AsyncConnection, spec: TypeSpec, where: ColumnElement[bool], limit: int
    ) -> list[CrmRecord]:
        if limit <= 0:
            return []
        table = TABLES[spec.name]
        statement = (
            select(table, *reference_columns(spec.name))
            .where(where)
            .order_by(*title_order(spec))
            .limit(limit)
        )
        rows = (await conn.execute(statement)).mappings().all()
        return [self._record(spec, row) for row in rows]

    async def _row(self, conn: AsyncConnection, spec: TypeSpec, record_id: str) -> RowMapping:
        result = await conn.execute(row_statement(spec.name), {"id": record_id})
        row = result.mappings().first()
        if row is None:
            raise CrmNotFoundError(
                f"{spec.info.label} {record_id} does not exist", vendor_status=404
            )
        found: RowMapping = row
        return found

    def _with_phone_keys(self, spec: TypeSpec, values: dict[str, Any]) -> dict[str, Any]:
        for name in spec.phone_fields:
            if name in values:
                values[digits_column(name)] = phone_key(values[name], self._region)
        return values

    async def _check_references(
        self, conn: AsyncConnection, spec: TypeSpec, values: Mapping[str, Any]
    ) -> None:
        targets = [(ref, key) for ref, key in spec.parents.items() if values.get(ref)]
        if spec.name == "task" and values.get("related_id"):
            targets.append(("related_id", values.get("related_type") or ""))
        for field, record_type in targets:
            target = TYPES.get(record_type)
            missing = (
                target is None
                or (
                    await conn.scalar(
                        select(func.count())
                        .select_from(TABLES[target.name])
                        .where(TABLES[target.name].c.id == values[field])
                    )
                )
                == 0
            )
            if missing:
                raise CrmRejectedError(
                    f"{field} does not point at an existing {record_type}",
                    field=field,
                    vendor_status=400,
                )

    async def _insert(self, conn: AsyncConnection, spec: TypeSpec, values: dict[str, Any]) -> str:
        await self._check_references(conn, spec, values)
        record_id = f"{spec.prefix}-{uuid.uuid4().hex[:12]}"
        table = TABLES[spec.name]
        if spec.name == "case":
            count = await conn.scalar(select(func.count()).select_from(table))
            values["case_number"] = f"{1001 + int(count or 0):08d}"
        now = _now()
        await conn.execute(
            table.insert().values(
                id=record_id, created_at=now, updated_at=now, **self._with_phone_keys(spec, values)
            )
        )
        return record_id

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
        specs = [self._spec(name) for name in (query.record_types or default)]
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

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._base_url}/{quote(record_type, safe='')}/{quote(record_id, safe='')}"

    async def check(self) -> None:
        async with self._connection() as conn:
            await conn.scalar(select(func.count()).select_from(TABLES["contact"]))

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
        open_engine=context.extra.get("demo_crm_engine") or _default_engine,
    )
