"""The demo CRM's database: its engine (handed in by the service), connections with database
errors translated into CRM errors, seeding, and rows as records."""

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
    RecordRef,
)
from .query import title_order
from .schema import METADATA, TABLES, TYPES, TypeSpec, digits_column
from .seed import SAMPLE_RECORDS, PersonLike, SeedRecord, people_records
from .statements import (
    reference_columns,
    reference_label,
    row_statement,
)
from .values import output_value, phone_key, validate_fields

__all__ = ["DemoDatabase", "DEFAULT_BASE_URL", "EngineFactory", "plain_engine", "lock_for_writing"]

DEFAULT_BASE_URL = "http://localhost:3978/demo-crm"
_MAX_LIMIT = 200


def _now() -> datetime:
    return datetime.now(UTC)


EngineFactory = Callable[[str], AsyncEngine]


def plain_engine(url: str) -> AsyncEngine:
    """An engine with the driver's defaults (scripts and tests that hand in none)."""
    return create_async_engine(url, pool_pre_ping=True)


async def lock_for_writing(conn: AsyncConnection) -> None:
    """On SQLite, start the transaction holding the file's write lock (``BEGIN IMMEDIATE``):
    a transaction that read a snapshot and then writes would otherwise fail when another
    connection committed in between. Other databases: nothing to do."""
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


class DemoDatabase:
    """The demo CRM's tables under ``DemoCrm``: the engine, created and seeded on first use,
    connections with database errors translated, and rows as records."""

    def __init__(
        self,
        url: str,
        *,
        label: str = "Demo CRM",
        base_url: str = DEFAULT_BASE_URL,
        region: str = "DE",
        latency_ms: float = 0,
        seed: str = "sample",
        open_engine: EngineFactory = plain_engine,
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

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._base_url}/{quote(record_type, safe='')}/{quote(record_id, safe='')}"
