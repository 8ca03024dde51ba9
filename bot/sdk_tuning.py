"""Per-turn costs of the Agents SDK (pinned exactly, see pyproject.toml) that we take off.

The SDK builds a user-token client, and often a connector client, for every incoming
activity; each constructor evaluates ``get_product_info()`` for its User-Agent header even
when one is set, and that reads the installed packages' metadata from disk
(``importlib.metadata.version``): about a quarter of a millisecond per turn for a string
that never changes while the process runs. ``apply()`` makes the modules that call it use a
cached copy. Re-check on every SDK upgrade (tests/bot/test_sdk_tuning.py does).
"""

from __future__ import annotations

import functools
import importlib

__all__ = ["CALLERS", "apply"]

# Modules that imported ``get_product_info`` by name.
CALLERS = (
    "microsoft_agents.hosting.core.connector.client.user_token_client",
    "microsoft_agents.hosting.core.connector.client.connector_client",
    "microsoft_agents.hosting.core.connector.mcs.mcs_connector_client",
)


def apply() -> None:
    """Idempotent: each caller gets the one cached ``get_product_info``."""
    from microsoft_agents.hosting.core.connector import get_product_info as original

    cached = functools.cache(original)
    for name in CALLERS:
        module = importlib.import_module(name)
        if getattr(module, "get_product_info", None) is original:
            module.get_product_info = cached  # type: ignore[attr-defined]
