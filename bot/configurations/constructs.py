"""Build a configuration's adapter once, without network, so its own checks of settings
and secrets run when the configuration is saved."""

from __future__ import annotations

from typing import Any

from crm.errors import ConfigError
from crm.registry import create_adapter
from crm.secrets import redact

from ..crm_directory import CrmDirectory

__all__ = ["check_constructs"]


async def check_constructs(
    directory: CrmDirectory,
    config_id: str,
    integration_type: str,
    label: str,
    settings: dict[str, Any],
    stored: dict[str, str],
) -> None:
    """Build the adapter once (no network): its own checks of settings and secrets run.
    Skipped while a secret reference cannot be resolved here (it may be on the server)."""
    try:
        secrets = directory.resolve_secrets(stored)
    except ConfigError:
        return
    context = directory.adapter_context(
        config_id, integration_type, label=label, settings=settings, secrets=secrets
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
