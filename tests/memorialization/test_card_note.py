"""The agent sees it on the card when an interaction could not be logged in the CRM, and
the note goes once an admin's retry succeeds."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.bot.activities import ANNA_AGENT
from tests.bot.cardtools import texts
from tests.bot.conftest import (
    AUTH,
    Bot,
    follow_up,
    make_settings,
    started,
)

NOTE = "This interaction could not be logged in the CRM."  # en text of memorialization_failed


def _take_timeline_offline(demo_db: Path, offline: bool) -> None:
    """The demo CRM's activity table goes away (or comes back): its writes fail meanwhile."""
    names = ("demo_crm_task", "demo_crm_task_offline")
    old, new = names if offline else reversed(names)
    with sqlite3.connect(demo_db) as db:
        db.execute(f"ALTER TABLE {old} RENAME TO {new}")


async def _settled(bot: Bot, interaction_id: str) -> list[dict]:
    async with asyncio.timeout(20):  # safety net, not a timed assertion
        while True:
            response = await bot.client.get(
                f"/api/v1/memorializations?interactionId={interaction_id}", headers=AUTH
            )
            jobs = (await response.json())["memorializations"]
            if jobs and all(job["status"] in ("done", "failed") for job in jobs):
                return jobs
            await asyncio.sleep(0.05)


def _card_puts(bot: Bot) -> list[dict]:
    return [
        c.card
        for c in bot.connector.puts(ANNA_AGENT.conversation_id)
        if c.card and c.card.get("msteams")
    ]


async def test_a_failed_crm_write_shows_on_the_card_until_a_retry_succeeds(
    connector, service_url, aiohttp_client, tmp_path, database_url
):
    app = create_app(
        make_settings(
            tmp_path,
            database_url,
            memorialization_max_attempts=1,
            memorialization_backoff_base_seconds=0.01,
        )
    )
    bot = Bot(await aiohttp_client(TestServer(app)), connector, service_url)
    await bot.install(ANNA_AGENT)
    body = started(ANNA_AGENT)
    interaction_id = body["interactionId"]
    assert (await bot.event(body))[0] == 202
    card = await bot.card_for(ANNA_AGENT)  # the look-up has pinned the caller
    assert NOTE not in texts(card)

    _take_timeline_offline(tmp_path / "demo-crm.db", offline=True)
    assert (await bot.event(follow_up(interaction_id, "ended", endedBy="agent")))[0] == 202
    jobs = await _settled(bot, interaction_id)
    assert jobs and {job["status"] for job in jobs} == {"failed"}
    noted = await connector.wait_for(lambda _: [c for c in _card_puts(bot) if NOTE in texts(c)])
    assert noted

    _take_timeline_offline(tmp_path / "demo-crm.db", offline=False)
    puts = len(_card_puts(bot))
    for job in jobs:
        response = await bot.client.post(
            f"/api/v1/memorializations/{job['id']}/retry", headers=AUTH
        )
        assert response.status == 200
    assert {job["status"] for job in await _settled(bot, interaction_id)} == {"done"}
    cleared = await connector.wait_for(
        lambda _: [c for c in _card_puts(bot)[puts:] if NOTE not in texts(c)]
    )
    assert cleared
