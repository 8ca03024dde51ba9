"""The Alembic history builds exactly the schema the table modules declare, on both databases."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.storage.db import MIGRATIONS_DIR, create_engine, upgrade_database
from bot.storage.schema import load_metadata


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, load_metadata())


async def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []


def _downgrade_to_base(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    command.downgrade(config, "base")


async def test_downgrade_removes_everything_and_upgrade_restores_it(database_url):
    await asyncio.to_thread(_downgrade_to_base, database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
        await upgrade_database(database_url)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(load_metadata().tables) <= tables
    finally:
        await engine.dispose()
