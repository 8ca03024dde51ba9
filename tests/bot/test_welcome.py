"""One welcome per install: Teams and the Playground send installationUpdate and
conversationUpdate (membersAdded) for the same install, at once; only one help card."""

from __future__ import annotations

import asyncio

from .activities import ANNA_AGENT, activity, install, uninstall


def _help_cards(bot) -> list[object]:  # type: ignore[no-untyped-def]
    return [
        c
        for c in bot.connector.cards(ANNA_AGENT.conversation_id)
        if "Customer Card" in str(c.card) and "whoami" in str(c.card)
    ]


def _members_added(bot) -> dict[str, object]:  # type: ignore[no-untyped-def]
    body = activity(bot.service_url, ANNA_AGENT, "conversationUpdate")
    body["membersAdded"] = [body["recipient"], body["from"]]
    return body


async def test_install_and_members_added_together_welcome_once(bot) -> None:  # type: ignore[no-untyped-def]
    bot.connector.members[ANNA_AGENT.teams_id] = ANNA_AGENT.member()
    answers = await asyncio.gather(
        bot.activity(install(bot.service_url, ANNA_AGENT)), bot.activity(_members_added(bot))
    )
    assert [status for status, _ in answers] in ([200, 200], [202, 202], [200, 202], [202, 200])
    assert len(_help_cards(bot)) == 1


async def test_a_reinstall_after_uninstall_welcomes_again(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.install(ANNA_AGENT)
    await bot.activity(_members_added(bot))
    assert len(_help_cards(bot)) == 1
    await bot.activity(uninstall(bot.service_url, ANNA_AGENT))
    await bot.install(ANNA_AGENT)
    assert len(_help_cards(bot)) == 2
