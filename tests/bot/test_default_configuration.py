"""Replicas starting together on an empty database agree on one default configuration."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from bot.crm_directory import CrmDirectory
from bot.settings import Settings
from bot.storage.config_tables import ConfigurationRow
from bot.storage.db import create_engine, session_factory


async def test_concurrent_first_starts_create_one_default(database_url, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    engines = [create_engine(database_url) for _ in range(4)]
    async with httpx.AsyncClient() as http:
        directories = [CrmDirectory(session_factory(engine), settings, http) for engine in engines]
        try:
            ids = await asyncio.gather(*(d.ensure_default() for d in directories for _ in range(2)))
            async with session_factory(engines[0])() as session:
                count = await session.scalar(select(func.count()).select_from(ConfigurationRow))
        finally:
            for directory in directories:
                await directory.aclose()
            for engine in engines:
                await engine.dispose()
    assert count == 1
    assert len(set(ids)) == 1
