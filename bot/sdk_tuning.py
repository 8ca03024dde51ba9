"""Per-turn costs of the Agents SDK (pinned exactly, see pyproject.toml) that we take off.

The SDK builds a user-token client, and often a connector client, for every incoming
activity; each constructor evaluates ``get_product_info()`` for its User-Agent header even
when one is set, and that reads the installed packages' metadata from disk
(``importlib.metadata.version``): about a quarter of a millisecond per turn for a string
that never changes while the process runs. ``apply()`` makes the modules that call it use a
cached copy. Re-check on every SDK upgrade (tests/bot/test_sdk_tuning.py does).

In anonymous mode the same per-turn user-token client logs "App ID is not provided" at
WARNING on every activity. The service says so once at start-up (bot/app.py), so
``apply()`` also installs a filter that drops the SDK's repeats.
"""

from __future__ import annotations

import functools
import importlib
import logging

__all__ = ["CALLERS", "NO_APP_ID_LOGGER", "apply"]

NO_APP_ID_LOGGER = "microsoft_agents.hosting.core.connector.client.user_token_client"
_NO_APP_ID = "App ID is not provided"


class _DropNoAppId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_NO_APP_ID)


# Modules that imported ``get_product_info`` by name.
CALLERS = (
    "microsoft_agents.hosting.core.connector.client.user_token_client",
    "microsoft_agents.hosting.core.connector.client.connector_client",
    "microsoft_agents.hosting.core.connector.mcs.mcs_connector_client",
)


def apply() -> None:
    """Idempotent: each caller gets the one cached ``get_product_info``."""
    from microsoft_agents.hosting.core.connector import get_product_info as original

    sdk_log = logging.getLogger(NO_APP_ID_LOGGER)
    if not any(isinstance(f, _DropNoAppId) for f in sdk_log.filters):
        sdk_log.addFilter(_DropNoAppId())
    cached = functools.cache(original)
    for name in CALLERS:
        module = importlib.import_module(name)
        if getattr(module, "get_product_info", None) is original:
            module.get_product_info = cached  # type: ignore[attr-defined]
