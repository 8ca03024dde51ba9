"""The connector store: each platform's connection, validated the one way every caller
(admin API, ``config apply``, the admin console) goes through. Secrets are encrypted with
the CRM configurations' secret box and leave this module only as their status. Every change
writes its audit row (``connector.*``, target the platform) in the same transaction, naming
the attributes that changed, never their values."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import ConfigError, NotFoundError
from crm.secrets import (
    SecretBox,
    describe_secrets,
    parse_secret_input,
    resolve_secret,
    store_secret,
)
from crm.secrets import secret_matches as stored_secret_matches

from .. import audit
from ..storage.connector_tables import ConnectorRow
from .models import (
    PLATFORM_LABELS,
    PLATFORMS,
    SETTINGS_MODELS,
    Connector,
    ConnectorInput,
    allowed_secrets,
    required_secrets,
)

__all__ = [
    "ConnectorStore",
    "ActiveConnector",
    "ENDPOINTS",
    "agent_problem",
    "checked_settings",
    "unknown_platform",
]

_Status = Literal["active", "inactive"]

ENDPOINTS = {
    "twilio": "/api/v1/connectors/twilio/taskrouter",
    "amazon-connect": "/api/v1/connectors/amazon-connect/events",
    "nice-cxone": (
        "/api/v1/connectors/nice-cxone/configuration/{configurationId}/workflow/{workflowId}"
    ),
    "genesys-cloud": "(outbound WebSocket: the service subscribes to the Notification API)",
}


class ActiveConnector:
    """A connector as its endpoint uses it: parsed settings and plain secrets (never log
    them)."""

    def __init__(self, row: ConnectorRow, box: SecretBox) -> None:
        self.platform = row.platform
        self.active = row.status == "active"
        self.configuration_id = row.configuration_id
        self.settings: Any = SETTINGS_MODELS[row.platform].model_validate(row.settings or {})
        self.agents = {key: value.strip().lower() for key, value in (row.agents or {}).items()}
        self._stored = dict(row.secrets or {})
        self._box = box

    def secret(self, name: str) -> str | None:
        stored = self._stored.get(name)
        return None if stored is None else resolve_secret(name, stored, self._box)

    def secret_equals(self, name: str, given: str) -> bool:
        """Whether ``given`` is the secret ``name``, compared in constant time (an unset
        secret equals nothing)."""
        expected = self.secret(name)
        return bool(expected) and hmac.compare_digest(given.encode(), (expected or "").encode())


def unknown_platform(platform: str) -> NotFoundError:
    return NotFoundError(
        f"Unknown platform '{platform}'; choose one of: {', '.join(PLATFORMS)}",
        code="unknown_platform",
        field="platform",
    )


class ConnectorStore:
    """Read, set and delete connectors; the connector service layer."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        *,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._on_change = on_change or (lambda: None)

    def render(self, row: ConnectorRow) -> Connector:
        return Connector(
            platform=row.platform,
            name=PLATFORM_LABELS[row.platform],
            status=row.status,
            configuration_id=row.configuration_id,
            settings=dict(row.settings or {}),
            secrets=describe_secrets(row.secrets or {}),
            agents=dict(row.agents or {}),
            endpoint=ENDPOINTS[row.platform],
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def list(self) -> list[Connector]:
        async with self._sessions() as session:
            rows = (await session.execute(select(ConnectorRow))).scalars().all()
        return [self.render(row) for row in sorted(rows, key=lambda r: r.platform)]

    async def get(self, platform: str) -> Connector:
        return self.render(await self._row(platform))

    async def active(self, platform: str) -> ActiveConnector | None:
        """The connector an endpoint serves, or None when it is not set up or inactive."""
        async with self._sessions() as session:
            row = await session.get(ConnectorRow, platform)
        if row is None or row.status != "active":
            return None
        return ActiveConnector(row, self._box)

    async def put(self, platform: str, body: ConnectorInput) -> tuple[Connector, bool]:
        """Create or replace; secrets not named keep their value. Returns (connector,
        created)."""
        if platform not in PLATFORMS:
            raise unknown_platform(platform)
        if body.platform is not None and body.platform != platform:
            raise ConfigError(
                "platform: does not match the platform in the path",
                code="platform_mismatch",
                field="platform",
            )
        async with self._sessions() as session, session.begin():
            row = await session.get(ConnectorRow, platform)
            created = row is None
            before = _state(row)
            settings = checked_settings(platform, body.settings)
            secrets = self._merged_secrets(platform, settings, before["secrets"], body.secrets)
            if row is None:
                row = ConnectorRow(platform=platform, created_at=datetime.now(UTC))
                session.add(row)
            row.status = body.status
            row.configuration_id = body.configuration_id
            row.settings = settings
            row.secrets = secrets
            if body.agents is not None:
                row.agents = _checked_agents(body.agents)
            elif created:
                row.agents = {}
            row.updated_at = datetime.now(UTC)
            _record(session, "connector.create" if created else "connector.update", before, row)
        self._on_change()
        return await self.get(platform), created

    async def set_agents(self, platform: str, agents: dict[str, str]) -> Connector:
        async with self._sessions() as session, session.begin():
            row = await self._row(platform, session)
            before = _state(row)
            row.agents = _checked_agents(agents)
            row.updated_at = datetime.now(UTC)
            _record(session, "connector.agents", before, row)
        self._on_change()
        return await self.get(platform)

    async def set_status(self, platform: str, status: _Status) -> Connector:
        """Switch a connector on or off, keeping everything else."""
        async with self._sessions() as session, session.begin():
            row = await self._row(platform, session)
            before = _state(row)
            row.status = status
            row.updated_at = datetime.now(UTC)
            _record(session, "connector.status", before, row)
        self._on_change()
        return await self.get(platform)

    async def delete(self, platform: str) -> None:
        async with self._sessions() as session, session.begin():
            row = await self._row(platform, session)
            await session.delete(row)
            audit.record(
                session,
                "connector.delete",
                configuration_id=row.configuration_id,
                target=platform,
                summary=PLATFORM_LABELS[platform],
            )
        self._on_change()

    async def secret_matches(self, platform: str, name: str, value: Any) -> bool:
        """Whether ``value`` equals the stored secret (``config apply`` stays idempotent)."""
        row = await self._row(platform)
        return stored_secret_matches(name, (row.secrets or {}).get(name), value, self._box)

    async def _row(self, platform: str, session: AsyncSession | None = None) -> ConnectorRow:
        if platform not in PLATFORMS:
            raise unknown_platform(platform)
        if session is None:
            async with self._sessions() as own:
                row = await own.get(ConnectorRow, platform)
        else:
            row = await session.get(ConnectorRow, platform)
        if row is None:
            raise NotFoundError(
                f"No {PLATFORM_LABELS[platform]} connector is set up",
                code="unknown_connector",
                field="platform",
            )
        return row

    def _merged_secrets(
        self,
        platform: str,
        settings: dict[str, Any],
        stored: dict[str, str],
        given: dict[str, Any],
    ) -> dict[str, str]:
        parsed = SETTINGS_MODELS[platform].model_validate(settings)
        allowed = allowed_secrets(platform, parsed)
        merged = dict(stored)
        for name, value in given.items():
            if name not in allowed:
                raise ConfigError(
                    f"secrets.{name}: not a secret of this connector; known: "
                    f"{', '.join(sorted(allowed))}",
                    code="unknown_secret",
                    field=f"secrets.{name}",
                )
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = store_secret(parse_secret_input(name, value), self._box)
        merged = {name: value for name, value in merged.items() if name in allowed}
        missing = sorted(required_secrets(platform, parsed) - set(merged))
        if missing:
            raise ConfigError(
                f"secrets.{missing[0]}: required for this connector",
                code="missing_secret",
                field=f"secrets.{missing[0]}",
            )
        return merged


def checked_settings(platform: str, settings: dict[str, Any]) -> dict[str, Any]:
    model = SETTINGS_MODELS[platform]
    try:
        parsed = model.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        known = ", ".join(model.model_fields)
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = f"unknown setting; known: {known}"
        raise ConfigError(
            f"settings.{where}: {message}", code="invalid_setting", field=f"settings.{where}"
        ) from None
    return parsed.model_dump(mode="json", exclude_unset=True)


def _state(row: ConnectorRow | None) -> dict[str, Any]:
    """What a connector was before a change (empty when new), for its audit row."""
    if row is None:
        return {"top": {}, "settings": {}, "secrets": {}, "agents": {}}
    return {
        "top": {"status": row.status, "configurationId": row.configuration_id},
        "settings": dict(row.settings or {}),
        "secrets": dict(row.secrets or {}),
        "agents": dict(row.agents or {}),
    }


def _record(session: AsyncSession, action: str, before: dict[str, Any], row: ConnectorRow) -> None:
    """The audit row of a change: the names of what changed (agent ids, never secrets'
    values: a changed secret is named by its key, as configurations' are)."""
    after = _state(row)
    changes = [
        *audit.changed_keys("", before["top"], after["top"]),
        *audit.changed_keys("settings", before["settings"], after["settings"]),
        *audit.changed_keys("secrets", before["secrets"], after["secrets"]),
        *audit.changed_keys("agents", before["agents"], after["agents"]),
    ]
    audit.record(
        session,
        action,
        configuration_id=row.configuration_id,
        target=row.platform,
        summary=PLATFORM_LABELS[row.platform],
        changes=changes,
    )


_UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def agent_problem(key: str, value: str) -> str | None:
    """What is wrong with one row of an agent table (None: nothing): the platform agent id
    -> the Teams user's email/UPN or AAD object id (a GUID)."""
    if not key.strip() or len(key) > 200:
        return "give the platform agent id (at most 200 characters)"
    target = value.strip()
    if len(target) > 320 or not (_UPN.match(target) or _GUID.match(target)):
        return "give the Teams user's email/UPN (name@domain) or AAD object id"
    return None


def _checked_agents(agents: dict[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in agents.items():
        if problem := agent_problem(key, value):
            raise ConfigError(
                f"agents.{key}: {problem}", code="invalid_agent", field=f"agents.{key}"
            )
        checked[key.strip()] = value.strip()
    return checked
