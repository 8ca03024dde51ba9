"""The configuration store: CRM configurations with their rules (their mappings and
workflows: :class:`~bot.configurations.children.ChildStore`, at ``store.children``).

The admin API and ``customer-card config ...`` both go through :class:`ConfigurationStore`,
so every way in validates the same: settings against the type's schema, secret names against
the type and its auth method (values encrypted at rest), mappings and workflows against the
CRM's field metadata. Secrets leave this module only as :class:`crm.secrets.SecretStatus`.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.config import (
    TYPE_LABELS,
    Configuration,
    ConfigurationInput,
    ConfigurationPatch,
    check_secret_names,
    validate_settings,
)
from crm.errors import ConfigError, ConflictError, NotFoundError
from crm.models import FieldInfo, RecordType
from crm.secrets import (
    SecretBox,
    describe_secrets,
    parse_secret_input,
    store_secret,
)
from crm.secrets import secret_matches as stored_secret_matches
from crm.startup import StartupStep, check_startup_steps

from .. import audit
from ..crm_directory import CrmDirectory
from ..crm_directory.default import add_default_workflows
from ..storage.config_tables import (
    ConfigurationRow,
)
from .children import ChildStore
from .constructs import check_constructs
from .kinds import CHILD_KINDS, config_row, dump, guarded, new_id
from .rollback import all_or_nothing

__all__ = ["ConfigurationStore"]

_steps_adapter: TypeAdapter[list[StartupStep]] = TypeAdapter(list[StartupStep])


class ConfigurationStore:
    """Create, read, change and delete the integration model, validated."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], directory: CrmDirectory) -> None:
        self._sessions = sessions
        self._directory = directory
        self.children = ChildStore(sessions, directory)

    def all_or_nothing(self) -> AbstractAsyncContextManager[None]:
        """A block of store operations that changes nothing when it raises."""
        return all_or_nothing(self._sessions, self._directory)

    @property
    def box(self) -> SecretBox:
        return self._directory.secret_box

    # ----------------------------------------------------------- configurations

    def render(self, row: ConfigurationRow) -> Configuration:
        return Configuration(
            id=row.id,
            name=row.name,
            description=row.description or "",
            type=row.type,
            type_name=TYPE_LABELS.get(row.type, row.type),
            status=row.status,
            is_default=row.is_default,
            settings=dict(row.settings or {}),
            secrets=describe_secrets(row.secrets or {}),
            startup=_steps_adapter.validate_python(row.startup) if row.startup else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def list_configurations(self) -> list[Configuration]:
        async with self._sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(ConfigurationRow).order_by(
                            ConfigurationRow.created_at, ConfigurationRow.id
                        )
                    )
                )
                .scalars()
                .all()
            )
        return [self.render(row) for row in rows]

    async def get(self, configuration_id: str) -> Configuration:
        async with self._sessions() as session:
            return self.render(await config_row(session, configuration_id))

    async def create(self, body: ConfigurationInput) -> Configuration:
        """A new configuration with its ready set of workflows."""
        config_id = body.id or new_id("cfg")
        settings = self.checked_settings(body.type, body.settings)
        secrets = self._merged_secrets(
            body.type, validate_settings(body.type, settings), {}, body.secrets
        )
        await check_constructs(self._directory, config_id, body.type, body.name, settings, secrets)
        async with self._sessions() as session, session.begin():
            if await session.get(ConfigurationRow, config_id) is not None:
                raise ConflictError(
                    f"id: configuration {config_id} already exists",
                    code="configuration_exists",
                    field="id",
                )
            if body.is_default:
                await self._clear_default(session)
            session.add(
                ConfigurationRow(
                    id=config_id,
                    name=body.name,
                    description=body.description,
                    type=body.type,
                    status=body.status,
                    is_default=body.is_default,
                    settings=settings,
                    secrets=secrets,
                    startup=self._steps_json(body.startup),
                )
            )
            audit.record(
                session,
                "configuration.create",
                configuration_id=config_id,
                target=config_id,
                summary=f"{body.name} ({body.type})",
                changes=audit.changed_keys("settings", {}, settings)
                + audit.changed_keys("secrets", {}, secrets),
            )
            await session.flush()
            add_default_workflows(session, config_id, body.type)
        return await self.get(config_id)

    async def replace(self, configuration_id: str, body: ConfigurationInput) -> Configuration:
        """PUT: every attribute as given; secrets not named keep their stored value."""
        if body.id and body.id != configuration_id:
            raise ConfigError(
                "id: does not match the configuration in the path", code="id_mismatch", field="id"
            )
        async with self._sessions() as session:
            row = await config_row(session, configuration_id)
        if body.type != row.type:
            raise ConfigError(
                f"type: a configuration's integration type cannot change ({row.type}); "
                "create a new configuration",
                code="type_change",
                field="type",
            )
        return await self._save_body(
            configuration_id, body, set_startup=True, action="configuration.replace"
        )

    async def patch(self, configuration_id: str, body: ConfigurationPatch) -> Configuration:
        given = body.model_fields_set
        return await self._save_body(
            configuration_id,
            body,
            set_startup="startup" in given,
            action="configuration.startup" if given == {"startup"} else "configuration.update",
        )

    async def set_startup(
        self, configuration_id: str, steps: list[StartupStep] | None, *, name: str = "startup"
    ) -> Configuration:
        """The interaction start-up steps (None: the built-in default); errors name
        ``<name>[index]``."""
        return await self._save(
            configuration_id, secrets={}, startup=steps, set_startup=True, startup_name=name
        )

    async def set_status(
        self, configuration_id: str, status: Literal["active", "inactive"]
    ) -> Configuration:
        verb = "activate" if status == "active" else "deactivate"
        return await self._save(
            configuration_id, status=status, secrets={}, action=f"configuration.{verb}"
        )

    async def delete(self, configuration_id: str) -> None:
        async with self._sessions() as session, session.begin():
            await config_row(session, configuration_id)
            for kind in CHILD_KINDS.values():
                await session.execute(
                    delete(kind.row).where(kind.row.configuration_id == configuration_id)
                )
            await session.execute(
                delete(ConfigurationRow).where(ConfigurationRow.id == configuration_id)
            )
            audit.record(
                session,
                "configuration.delete",
                configuration_id=configuration_id,
                target=configuration_id,
            )
        await self._directory.forget(configuration_id)

    async def secret_matches(self, configuration_id: str, name: str, value: Any) -> bool:
        """Whether ``value`` (as an admin gives it) equals what is stored, without exposing
        the stored value: lets ``config apply`` stay idempotent with literal secrets."""
        async with self._sessions() as session:
            row = await config_row(session, configuration_id)
        return stored_secret_matches(name, (row.secrets or {}).get(name), value, self.box)

    async def _save_body(
        self,
        configuration_id: str,
        body: ConfigurationInput | ConfigurationPatch,
        *,
        set_startup: bool,
        action: str,
    ) -> Configuration:
        return await self._save(
            configuration_id,
            name=body.name,
            description=body.description,
            status=body.status,
            is_default=body.is_default,
            settings=body.settings,
            secrets=body.secrets or {},
            startup=body.startup,
            set_startup=set_startup,
            action=action,
        )

    async def _save(
        self,
        configuration_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        status: str | None = None,
        is_default: bool | None = None,
        settings: dict[str, Any] | None = None,
        secrets: dict[str, Any],
        startup: list[StartupStep] | None = None,
        set_startup: bool = False,
        action: str = "configuration.update",
        startup_name: str = "startup",
    ) -> Configuration:
        if set_startup and startup is not None:
            check_startup_steps(startup, startup_name)
        async with self._sessions() as session:
            row = await config_row(session, configuration_id)
        new_settings = self.checked_settings(
            row.type, settings if settings is not None else dict(row.settings or {})
        )
        parsed = validate_settings(row.type, new_settings)
        new_secrets = self._merged_secrets(row.type, parsed, dict(row.secrets or {}), secrets)
        if settings is not None or secrets:
            await check_constructs(
                self._directory, row.id, row.type, name or row.name, new_settings, new_secrets
            )
        async with self._sessions() as session, session.begin():
            row = await config_row(session, configuration_id)
            if is_default:
                await self._clear_default(session)
            changed = audit.changed_keys(
                "settings", row.settings or {}, new_settings
            ) + audit.changed_keys("secrets", row.secrets or {}, new_secrets)
            for attribute, value in (
                ("name", name),
                ("description", description),
                ("status", status),
                ("is_default", is_default),
            ):
                if value is not None and getattr(row, attribute) != value:
                    changed.append(attribute)
                    setattr(row, attribute, value)
            row.settings = new_settings
            row.secrets = new_secrets
            if set_startup and row.startup != self._steps_json(startup):
                changed.append("startup")
                row.startup = self._steps_json(startup)
            audit.record(
                session,
                action,
                configuration_id=configuration_id,
                target=configuration_id,
                summary=row.name,
                changes=changed,
            )
            # a changed updated_at is what makes the directory rebuild the adapter
            row.updated_at = datetime.now(UTC)
        return await self.get(configuration_id)

    @staticmethod
    def _steps_json(steps: list[StartupStep] | None) -> list[dict[str, Any]] | None:
        if steps is None:
            return None
        return [dump(step) for step in steps]

    @staticmethod
    def checked_settings(integration_type: str, settings: dict[str, Any]) -> dict[str, Any]:
        parsed = validate_settings(integration_type, settings)
        return parsed.model_dump(mode="json", exclude_unset=True)

    def _merged_secrets(
        self, integration_type: str, settings: Any, stored: dict[str, str], given: dict[str, Any]
    ) -> dict[str, str]:
        merged = dict(stored)
        for name, value in given.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = store_secret(parse_secret_input(name, value), self.box)
        check_secret_names(integration_type, settings, set(merged))
        return merged

    @staticmethod
    async def _clear_default(session: AsyncSession) -> None:
        await session.execute(
            update(ConfigurationRow)
            .where(ConfigurationRow.is_default.is_(True))
            .values(is_default=False)
        )

    # ------------------------------------------------------------- the CRM side

    async def test(self, configuration_id: str) -> dict[str, Any]:
        """Prove credentials and reach: the adapter mints a token and reads metadata."""
        config = await self.get(configuration_id)
        adapter = await self._directory.adapter(configuration_id)
        warnings = await guarded(self._directory, configuration_id, adapter.check())
        types = await guarded(self._directory, configuration_id, adapter.list_record_types())
        return {
            "configurationId": config.id,
            "ok": True,
            "type": config.type,
            "recordTypes": len(types),
            "warnings": warnings,
        }

    async def entities(self, configuration_id: str) -> list[RecordType]:
        await self.get(configuration_id)
        adapter = await self._directory.adapter(configuration_id)
        return await guarded(self._directory, configuration_id, adapter.list_record_types())

    async def fields(
        self, configuration_id: str, record_type: str
    ) -> tuple[RecordType, list[FieldInfo]]:
        types = await self.entities(configuration_id)
        known = next((t for t in types if t.name.lower() == record_type.lower()), None)
        if known is None:
            raise NotFoundError(
                f"'{record_type}' is not a record type of this CRM; choose one of: "
                f"{', '.join(t.name for t in types)}",
                code="unknown_record_type",
                field="type",
            )
        adapter = await self._directory.adapter(configuration_id)
        return known, await guarded(
            self._directory, configuration_id, adapter.list_fields(known.name)
        )
