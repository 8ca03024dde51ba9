"""The connectors' tests run the whole service (see :mod:`.harness`), on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.bot.activities import ANNA_AGENT
from tests.bot.conftest import Bot, make_settings
from tests.e2e.simulated_crms import START
from tests.e2e.test_crm_flows import FAST_WORKER, _configure

from .harness import Stack


# The Bot Connector fixture comes first so it is torn down last, after the app's cards.
@pytest.fixture
async def stack(  # type: ignore[no-untyped-def]
    connector, service_url, aiohttp_server, aiohttp_client, tmp_path, database_url
) -> AsyncIterator[Stack]:
    crm = await START["demo"](aiohttp_server, tmp_path)
    app = create_app(make_settings(tmp_path, database_url, **FAST_WORKER))
    bot = Bot(await aiohttp_client(TestServer(app)), connector, service_url)
    configuration_id = await _configure(bot, crm)
    await bot.install(ANNA_AGENT)
    yield Stack(bot, crm, configuration_id)
    if crm.close is not None:
        await crm.close()
