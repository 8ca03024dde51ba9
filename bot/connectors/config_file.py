"""The ``connectors:`` section of a ``customer-card config apply`` file, and its export:
each entry is a ``PUT /api/v1/connectors/{platform}`` body with its ``platform``.

    connectors:
      - platform: twilio
        configurationId: demo
        settings: {account_sid: AC0123...}
        secrets: {auth_token: "env:TWILIO_AUTH_TOKEN"}
        agents: {WK0123...: alex.agent@contoso.example}

Applying prints what differs and changes only that (a second run: nothing); secrets not
named keep their stored value; with ``--prune`` connectors the section omits are removed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from crm.errors import ConfigError

from .models import ConnectorInput
from .store import ConnectorStore, checked_settings

__all__ = ["apply_connectors", "export_connectors"]


def _parse(index: int, entry: Any) -> ConnectorInput:
    where = f"connectors[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be an object", code="invalid_field", field=where)
    try:
        body = ConnectorInput.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{where}.{path}: {first['msg']}", code="invalid_field", field=f"{where}.{path}"
        ) from None
    if body.platform is None:
        raise ConfigError(
            f"{where}.platform: required", code="invalid_field", field=f"{where}.platform"
        )
    return body


async def _differences(store: ConnectorStore, body: ConnectorInput) -> list[str]:
    assert body.platform is not None
    current = {c.platform: c for c in await store.list()}.get(body.platform)
    if current is None:
        return ["new"]
    changed = [
        name
        for name, old, new in (
            ("status", current.status, body.status),
            ("configurationId", current.configuration_id, body.configuration_id),
            ("settings", current.settings, checked_settings(body.platform, body.settings)),
        )
        if old != new
    ]
    if body.agents is not None and body.agents != current.agents:
        changed.append("agents")
    for name, value in body.secrets.items():
        if (value is None) == (name in current.secrets) or (
            value is not None and not await store.secret_matches(body.platform, name, value)
        ):
            changed.append(f"secrets.{name}")
    return changed


async def apply_connectors(
    store: ConnectorStore, entries: list[Any], *, dry_run: bool, prune: bool
) -> list[str]:
    """Make the connectors match ``entries``; the lines saying what changed (or would)."""
    lines: list[str] = []
    bodies = [_parse(index, entry) for index, entry in enumerate(entries)]
    for body in bodies:
        assert body.platform is not None
        changed = await _differences(store, body)
        if not changed:
            continue
        sign = "+" if changed == ["new"] else "~"
        detail = "" if sign == "+" else f": {', '.join(changed)}"
        lines.append(f"{sign} connector {body.platform}{detail}")
        if not dry_run:
            await store.put(body.platform, body)
    if prune:
        listed = {body.platform for body in bodies}
        for connector in await store.list():
            if connector.platform not in listed:
                lines.append(f"- connector {connector.platform}")
                if not dry_run:
                    await store.delete(connector.platform)
    return lines


async def export_connectors(store: ConnectorStore) -> tuple[list[dict[str, Any]], list[str]]:
    """The connectors as ``connectors:`` entries, and the literal secrets left out."""
    entries: list[dict[str, Any]] = []
    omitted: list[str] = []
    for connector in await store.list():
        entry: dict[str, Any] = {
            "platform": connector.platform,
            "status": connector.status,
            "configurationId": connector.configuration_id,
            "settings": connector.settings,
            "agents": connector.agents,
        }
        references = {n: s.reference for n, s in connector.secrets.items() if s.reference}
        omitted += [
            f"{connector.platform}.{n}" for n, s in connector.secrets.items() if not s.reference
        ]
        if references:
            entry["secrets"] = references
        entries.append(entry)
    return entries, omitted
