"""The card messages the notifier sends itself are the JSON the SDK's connector client would
send for the same reference, card and message id."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from microsoft_agents.activity import ConversationReference
from sqlalchemy import select

from bot.notifier import card_activity, outgoing_activity
from bot.services import SERVICES
from bot.storage.tables import InstallationRow
from bot.wire import dumps

from .activities import ANNA_AGENT, install

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Hi"}]}


def sdk_body(reference: dict[str, Any], activity_id: str | None) -> dict[str, Any]:
    """What ConversationsOperations.send_to_conversation / update_activity put on the wire
    (through the session serializer bot.wire.dumps), for a plain message, not a reply."""
    activity = card_activity(copy.deepcopy(CARD))
    unreplied = {k: v for k, v in reference.items() if k != "activityId"}
    activity.apply_conversation_reference(
        ConversationReference.model_validate(unreplied), is_incoming=False
    )
    if activity_id is not None:
        activity.id = activity_id
    body = json.loads(dumps(activity.model_dump(by_alias=True, exclude_unset=True, mode="json")))
    assert "replyToId" not in body
    return body


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
    ours = outgoing_activity(reference, CARD, activity_id=activity_id)
    assert ours == sdk_body(reference, activity_id)
    assert json.loads(dumps(ours)) == ours  # nothing left for the serializer to drop
