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
from crm.registry import AdapterContext, create_adapter
from crm.secrets import (
    SecretBox,
    describe_secrets,
    parse_secret_input,
    redact,
    resolve_secret,
    store_secret,
)
from crm.startup import StartupStep, check_startup_steps
from crm.workflows import default_workflows

from ..crm_directory import CrmDirectory
from ..storage.config_tables import (
    ConfigurationRow,
    WorkflowRow,
)
from .children import ChildStore
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
        await self._check_constructs(config_id, body.type, body.name, settings, secrets)
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
            await session.flush()
            for position, workflow in enumerate(default_workflows(body.type)):
                workflow.id = new_id("wf")
                session.add(
                    WorkflowRow(
                        configuration_id=config_id,
                        id=workflow.id,
                        name=workflow.name,
                        kind=workflow.kind,
                        status=workflow.status,
                        position=position,
                        spec=dump(workflow),
                    )
                )
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
        return await self._save(
            configuration_id,
            name=body.name,
            description=body.description,
            status=body.status,
            is_default=body.is_default,
            settings=body.settings,
            secrets=body.secrets,
            startup=body.startup,
            set_startup=True,
        )

    async def patch(self, configuration_id: str, body: ConfigurationPatch) -> Configuration:
        given = body.model_fields_set
        return await self._save(
            configuration_id,
            name=body.name,
            description=body.description,
            status=body.status,
            is_default=body.is_default,
            settings=body.settings,
            secrets=body.secrets or {},
            startup=body.startup,
            set_startup="startup" in given,
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
        return await self._save(configuration_id, status=status, secrets={})

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
        await self._directory.forget(configuration_id)

    async def secret_matches(self, configuration_id: str, name: str, value: Any) -> bool:
        """Whether ``value`` (as an admin gives it) equals what is stored, without exposing
        the stored value: lets ``config apply`` stay idempotent with literal secrets."""
        async with self._sessions() as session:
            row = await config_row(session, configuration_id)
        stored = (row.secrets or {}).get(name)
        if stored is None:
            return False
        given = parse_secret_input(name, value)
        if given.reference is not None:
            return stored == given.reference
        if not stored.startswith("enc:"):
            return False
        return resolve_secret(name, stored, self.box) == given.literal

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
            await self._check_constructs(
                row.id, row.type, name or row.name, new_settings, new_secrets
            )
        async with self._sessions() as session, session.begin():
            row = await config_row(session, configuration_id)
            if is_default:
                await self._clear_default(session)
            for attribute, value in (
                ("name", name),
                ("description", description),
                ("status", status),
                ("is_default", is_default),
            ):
                if value is not None:
                    setattr(row, attribute, value)
            row.settings = new_settings
            row.secrets = new_secrets
            if set_startup:
                row.startup = self._steps_json(startup)
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

    async def _check_constructs(
        self,
        config_id: str,
        integration_type: str,
        label: str,
        settings: dict[str, Any],
        stored: dict[str, str],
    ) -> None:
        """Build the adapter once (no network): its own checks of settings and secrets run.
        Skipped while a secret reference cannot be resolved here (it may be on the server)."""
        try:
            secrets = {
                name: resolve_secret(name, value, self.box) for name, value in stored.items()
            }
        except ConfigError:
            return
        context = AdapterContext(
            configuration_id=config_id,
            type=integration_type,
            label=label,
            settings=settings,
            secrets=secrets,
            http=self._directory.http,
            default_phone_region=self._directory.settings.default_phone_region,
            data_dir=self._directory.settings.data_dir,
            extra={
                "demo_crm_url": self._directory.settings.effective_demo_crm_url,
                "demo_crm_links": self._directory.settings.demo_crm_links,
            },
        )
        try:
            adapter = create_adapter(context)
        except ConfigError as exc:
            field = exc.field or ""
            prefix = "secrets." if field in stored else "settings."
            where = (
                field
                if field.startswith(("settings.", "secrets.", "type")) or not field
                else prefix + field
            )
            message = redact(exc.detail, secrets.values())
            raise ConfigError(
                f"{where}: {message}" if where else message, code=exc.code, field=where or None
            ) from None
        await adapter.aclose()

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
        await guarded(self._directory, configuration_id, adapter.check())
        types = await guarded(self._directory, configuration_id, adapter.list_record_types())
        return {
            "configurationId": config.id,
            "ok": True,
            "type": config.type,
            "recordTypes": len(types),
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
