"""Build a configuration's adapter once, without network, so its own checks of settings
and secrets run when the configuration is saved."""

from __future__ import annotations

from typing import Any

from crm.errors import ConfigError
from crm.registry import AdapterContext, create_adapter
from crm.secrets import redact, resolve_secret

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
        secrets = {
            name: resolve_secret(name, value, directory.secret_box)
            for name, value in stored.items()
        }
    except ConfigError:
        return
    context = AdapterContext(
        configuration_id=config_id,
        type=integration_type,
        label=label,
        settings=settings,
        secrets=secrets,
        http=directory.http,
        default_phone_region=directory.settings.default_phone_region,
        data_dir=directory.settings.data_dir,
        extra={
            "demo_crm_url": directory.settings.effective_demo_crm_url,
            "demo_crm_links": directory.settings.demo_crm_links,
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
