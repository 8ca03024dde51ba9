"""Imports every table module so ``Base.metadata`` is complete (for Alembic and tests).

Add a line here when you add a table module.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from .base import Base

TABLE_MODULES = [
    "bot.storage.tables",
    "bot.storage.config_tables",
    "bot.storage.job_tables",
    "bot.storage.admin_tables",
    "bot.storage.connector_tables",
]


def load_metadata() -> MetaData:
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a module not written yet
            if exc.name != name:
                raise
    return Base.metadata
