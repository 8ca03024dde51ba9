"""The card messages the notifier sends itself are the JSON the SDK's connector client would
send for the same reference, card and message id."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from microsoft_agents.activity import ConversationReference
from sqlalchemy import select

from bot.notifier import card_activity, outgoing_activity
from bot.services import SERVICES
from bot.storage.tables import InstallationRow

from .activities import ANNA_AGENT, install

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Hi"}]}


def sdk_body(reference: dict[str, Any], activity_id: str | None) -> dict[str, Any]:
    """What ConversationsOperations.send_to_conversation / update_activity put on the wire."""
    activity = card_activity(copy.deepcopy(CARD))
    activity.apply_conversation_reference(
        ConversationReference.model_validate(reference), is_incoming=False
    )
    activity.reply_to_id = None
    if activity_id is not None:
        activity.id = activity_id
    return activity.model_dump(by_alias=True, exclude_unset=True, mode="json")


async def _stored_reference(bot, **install_options: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    bot.connector.members[ANNA_AGENT.teams_id] = ANNA_AGENT.member()
    status, _ = await bot.activity(install(bot.service_url, ANNA_AGENT, **install_options))
    assert status in (200, 202)
    async with bot.client.app[SERVICES].sessions() as session:
        row = (await session.execute(select(InstallationRow))).scalars().one()
    return dict(row.reference)


@pytest.mark.parametrize("activity_id", [None, "act-42"])
@pytest.mark.parametrize("options", [{}, {"locale": "de-DE"}, {"channelId": "emulator"}])
async def test_the_card_message_is_the_sdk_wire_json(bot, activity_id, options):
    reference = await _stored_reference(bot, **options)
    assert outgoing_activity(reference, CARD, activity_id=activity_id) == sdk_body(
        reference, activity_id
    )
