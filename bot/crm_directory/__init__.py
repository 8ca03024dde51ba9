"""Finds the CRM configuration for a request and hands out its (cached) adapter, its
mappings, workflows and interaction start-up steps.

Configuration rows and the card's dynamic data mapping are cached for
``CONFIG_TTL_SECONDS``: the hot path (every interaction event and card) reads no
configuration from the database within that time. A change made through this process (the
admin API, ``config apply`` in-process) drops the cache when its transaction commits
(``changes``); a change made by another replica sharing the database is seen when the
cached row is next re-read, i.e. within ``CONFIG_TTL_SECONDS`` (the adapter is rebuilt when
the re-read row's ``updated_at`` differs).

``directory`` holds the cache and the adapters, ``specs`` reads mappings and workflows,
``default`` finds or makes the default configuration.
"""

from __future__ import annotations

from .directory import CONFIG_TTL_SECONDS, CrmDirectory

__all__ = ["CrmDirectory", "CONFIG_TTL_SECONDS"]
