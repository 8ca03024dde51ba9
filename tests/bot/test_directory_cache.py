"""The directory caches configuration rows; a change committed in this process is seen at
once (the cache bound of ~2 s applies only to changes made elsewhere)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from bot.crm_directory import CrmDirectory
from bot.settings import Settings
from bot.storage.config_tables import ConfigurationRow
from bot.storage.db import create_engine, session_factory
from crm.errors import NotFoundError


async def test_changes_committed_here_are_seen_at_once(database_url: str, tmp_path) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    settings = Settings(_env_file=None, data_dir=str(tmp_path))  # type: ignore[call-arg]
    async with httpx.AsyncClient() as http:
        directory = CrmDirectory(sessions, settings, http)
        try:
            config_id = await directory.ensure_default()
            steps = await directory.startup_steps(config_id)
            assert [s.step for s in steps] == ["search", "pin_single"]
            first = await directory.adapter(config_id)
            assert await directory.adapter(config_id) is first  # cached

            # an ORM change (as the admin API makes it)
            async with sessions() as session, session.begin():
                row = await session.get(ConfigurationRow, config_id)
                assert row is not None
                row.startup = [{"step": "search", "by": "phone"}, {"step": "related"}]
            steps = await directory.startup_steps(config_id)
            assert [s.step for s in steps] == ["search", "related"]
            second = await directory.adapter(config_id)
            assert second is not first  # updated_at changed: rebuilt

            # a bulk statement through a session
            async with sessions() as session, session.begin():
                await session.execute(
                    update(ConfigurationRow)
                    .where(ConfigurationRow.id == config_id)
                    .values(status="inactive")
                )
            with pytest.raises(NotFoundError) as raised:
                await directory.resolve_id(config_id)
            assert raised.value.code == "configuration_inactive"
        finally:
            await directory.aclose()
            await engine.dispose()
