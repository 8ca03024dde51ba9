"""The per-configuration objects (memorialization mappings, dynamic data mappings,
workflows): listed, read, created, replaced, switched on or off and deleted, each checked
against the CRM's metadata before it is stored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.config import MemorializationWorkflow
from crm.errors import ConfigError, ConflictError, NotFoundError, error_field

from .. import audit
from ..crm_directory import CrmDirectory
from ..crm_directory.specs import children_in_order
from ..storage.config_tables import MemorializationMappingRow
from .kinds import CHILD_KINDS, ChildName, config_row, dump, guarded, new_id

__all__ = ["ChildStore"]

# kind -> the noun of its audit actions ("mapping.create", "workflow.activate", ...)
_AUDIT_NOUN: dict[ChildName, str] = {
    "memorialization": "mapping",
    "dynamic": "dynamic-mapping",
    "workflow": "workflow",
}


def _audit(
    session: AsyncSession,
    kind: ChildName,
    verb: str,
    configuration_id: str,
    model: Any,
    changes: list[str] | None = None,
) -> None:
    audit.record(
        session,
        f"{_AUDIT_NOUN[kind]}.{verb}",
        configuration_id=configuration_id,
        target=model.id,
        summary=model.name,
        changes=changes or (),
    )


class ChildStore:
    """``kind`` names the object's kind: ``memorialization``, ``dynamic`` or ``workflow``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], directory: CrmDirectory) -> None:
        self._sessions = sessions
        self._directory = directory

    def parse(self, kind: ChildName, data: Any) -> Any:
        try:
            return CHILD_KINDS[kind].parse(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = error_field(first, data)
            message = first["msg"].removeprefix("Value error, ")
            raise ConfigError(
                f"{where}: {message}" if where else message,
                code="invalid_field",
                field=where or None,
            ) from None

    async def list(self, kind: ChildName, configuration_id: str) -> list[Any]:
        spec = CHILD_KINDS[kind]
        async with self._sessions() as session:
            await config_row(session, configuration_id)
            query = children_in_order(spec.row, configuration_id)
            rows = (await session.execute(query)).scalars().all()
        return [spec.parse(row.spec) for row in rows]

    async def get(self, kind: ChildName, configuration_id: str, child_id: str) -> Any:
        async with self._sessions() as session:
            await config_row(session, configuration_id)
            row = await self._row(session, kind, configuration_id, child_id)
            return CHILD_KINDS[kind].parse(row.spec)

    async def create(self, kind: ChildName, configuration_id: str, model: Any) -> Any:
        spec = CHILD_KINDS[kind]
        await self.check(kind, configuration_id, model)
        model.id = model.id or new_id(spec.prefix)
        async with self._sessions() as session, session.begin():
            await config_row(session, configuration_id)
            if await session.get(spec.row, (configuration_id, model.id)) is not None:
                raise ConflictError(
                    f"id: {spec.label} {model.id} already exists", code="exists", field="id"
                )
            position = (
                await session.execute(
                    select(func.count())
                    .select_from(spec.row)
                    .where(spec.row.configuration_id == configuration_id)
                )
            ).scalar_one()
            row = spec.row(
                configuration_id=configuration_id,
                id=model.id,
                name=model.name,
                status=model.status,
                position=position,
                spec=dump(model),
            )
            if kind == "workflow":
                row.kind = model.kind  # type: ignore[union-attr]
            session.add(row)
            _audit(session, kind, "create", configuration_id, model)
        return model

    async def replace(
        self, kind: ChildName, configuration_id: str, child_id: str, model: Any
    ) -> Any:
        if model.id and model.id != child_id:
            raise ConfigError(
                "id: does not match the id in the path", code="id_mismatch", field="id"
            )
        model.id = child_id
        async with self._sessions() as session:
            await self._row(session, kind, configuration_id, child_id)
        await self.check(kind, configuration_id, model)
        return await self._write(kind, configuration_id, model, "replace")

    async def set_status(
        self,
        kind: ChildName,
        configuration_id: str,
        child_id: str,
        status: Literal["active", "inactive"],
    ) -> Any:
        model = await self.get(kind, configuration_id, child_id)
        model.status = status
        verb = "activate" if status == "active" else "deactivate"
        return await self._write(kind, configuration_id, model, verb)

    async def delete(self, kind: ChildName, configuration_id: str, child_id: str) -> None:
        spec = CHILD_KINDS[kind]
        async with self._sessions() as session, session.begin():
            row = await self._row(session, kind, configuration_id, child_id)
            _audit(session, kind, "delete", configuration_id, row)
            await session.execute(
                delete(spec.row).where(
                    spec.row.configuration_id == configuration_id, spec.row.id == child_id
                )
            )

    async def _write(self, kind: ChildName, configuration_id: str, model: Any, verb: str) -> Any:
        async with self._sessions() as session, session.begin():
            row = await self._row(session, kind, configuration_id, model.id)
            changed = audit.changed_keys("", dict(row.spec or {}), dump(model))
            _audit(session, kind, verb, configuration_id, model, changed)
            row.name, row.status, row.spec = model.name, model.status, dump(model)
            if kind == "workflow":
                row.kind = model.kind
        return model

    async def check(self, kind: ChildName, configuration_id: str, model: Any) -> None:
        """Check ``model`` against the configuration and the CRM's metadata (what saving
        does first; the console's preview runs it without saving)."""
        async with self._sessions() as session:
            await config_row(session, configuration_id)
            if isinstance(model, MemorializationWorkflow) and model.mapping_id:
                mapping = await session.get(
                    MemorializationMappingRow, (configuration_id, model.mapping_id)
                )
                if mapping is None:
                    raise ConfigError(
                        f"mappingId: no memorialization mapping {model.mapping_id} in "
                        f"configuration {configuration_id}",
                        code="unknown_mapping",
                        field="mappingId",
                    )
        adapter = await self._directory.adapter(configuration_id)
        await guarded(self._directory, configuration_id, CHILD_KINDS[kind].check(model, adapter))

    @staticmethod
    async def _row(
        session: AsyncSession, kind: ChildName, configuration_id: str, child_id: str
    ) -> Any:
        spec = CHILD_KINDS[kind]
        row = await session.get(spec.row, (configuration_id, child_id))
        if row is None:
            raise NotFoundError(
                f"Unknown {spec.label} {child_id} in configuration {configuration_id}",
                code=f"unknown_{kind}",
                field="workflowId" if kind == "workflow" else "id",
            )
        return row
