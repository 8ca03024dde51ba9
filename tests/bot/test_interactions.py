"""End to end: interaction events in, the Customer Card in the agent's chat, actions on it."""

from __future__ import annotations

from bot.interactions import store
from bot.interactions.delivery import PreparedCard
from bot.services import SERVICES
from crm.models import CrmRecord

from .activities import ANNA_AGENT, BOB_AGENT, OTHER, card_action, message, task, uninstall
from .cardtools import actions, field_labels, pin_targets, texts, walk
from .conftest import ADMIN_KEY, follow_up, started


async def _start(bot, agent=ANNA_AGENT, **kw):  # type: ignore[no-untyped-def]
    await bot.install(agent)
    body = started(agent, **kw)
    status, state = await bot.event(body)
    assert status == 202, state
    return body["interactionId"], await bot.card_for(agent)


async def test_install_stores_identity_and_uninstall_removes_it(bot):
    await bot.install(ANNA_AGENT)
    welcome = bot.connector.posts(ANNA_AGENT.conversation_id)
    assert "Customer Card commands" in texts(welcome[0].card)
    # Known by email only (from the member API): the card reaches them.
    agent = {"id": "cx-7", "name": "Alex", "email": ANNA_AGENT.email.upper()}
    status, _ = await bot.event(started(agent))
    assert status == 202
    await bot.card_for(ANNA_AGENT)

    status, _ = await bot.activity(uninstall(bot.service_url, ANNA_AGENT))
    assert status in (200, 202)
    status, body = await bot.event(started(agent))
    assert status == 409 and body["error"] == "agent_not_installed"


async def test_identity_resolution_prefers_aad_then_email_then_teams_id(bot):
    await bot.install(ANNA_AGENT)
    await bot.install(BOB_AGENT)
    # AAD id names Bob, the email names Anna: the AAD object id wins.
    await bot.event(started({"id": "x", "aadObjectId": BOB_AGENT.aad, "email": ANNA_AGENT.email}))
    await bot.card_for(BOB_AGENT)
    # Unknown AAD id, email names Anna, Teams id names Bob: the email wins.
    await bot.event(
        started(
            {
                "id": "y",
                "aadObjectId": "unknown",
                "email": ANNA_AGENT.email,
                "teamsUserId": BOB_AGENT.teams_id,
            }
        )
    )
    await bot.card_for(ANNA_AGENT)
    # Only the Teams user id.
    await bot.event(started({"id": "z", "teamsUserId": BOB_AGENT.teams_id}))
    await bot.card_for(BOB_AGENT, count=2)
    assert (
        len([c for c in bot.connector.posts(ANNA_AGENT.conversation_id) if c.card.get("msteams")])
        == 1
    )


async def test_one_match_is_pinned_with_its_fields(bot):
    interaction_id, card = await _start(bot)
    shown = texts(card)
    assert "Anna Schmidt" in shown and "One matching CRM record was found and pinned." in shown
    assert "Current Interaction" in shown and "Support DE" in shown
    assert pin_targets(card, "unpin")["Anna Schmidt"]["interactionId"] == interaction_id
    assert card["refresh"]["userIds"] == [ANNA_AGENT.teams_id]
    assert card["msteams"]["width"] == "full" and card["version"] == "1.5"


async def test_records_related_to_the_match_arrive_in_place_and_can_be_pinned(make_bot):
    """Records of the match's account that come after the first card (card window 0:
    it waits for none) follow as an update of the same message (PUT), under Related, each
    with Pin."""
    bot = await make_bot(card_window_ms=0)
    interaction_id, card = await _start(bot)
    message_id = "act-" + str(
        bot.connector.posts(ANNA_AGENT.conversation_id).index(
            next(
                c
                for c in bot.connector.posts(ANNA_AGENT.conversation_id)
                if c.card and c.card.get("msteams")
            )
        )
        + 1
    )
    puts = await bot.connector.wait_for(
        lambda calls: [
            c for c in calls if c.method == "PUT" and "Schmidt Logistik GmbH" in texts(c.card)
        ]
    )
    assert puts[0].path.endswith("/" + message_id)  # the posted message, not a new one
    related = pin_targets(puts[0].card)
    assert "Schmidt Logistik GmbH" in related  # the account of the match
    assert "Related Interactions" in texts(puts[0].card)
    assert "Anna Schmidt" in pin_targets(puts[0].card, "unpin")  # the match stays pinned
    status, body = await bot.activity(
        card_action(bot.service_url, ANNA_AGENT, "pin", related["Schmidt Logistik GmbH"])
    )
    assert status == 200
    assert "Schmidt Logistik GmbH" in pin_targets(body["value"], "unpin")
    assert interaction_id == related["Schmidt Logistik GmbH"]["interactionId"]


def _record_facts(card, title):  # type: ignore[no-untyped-def]
    """The labels (lower case) of the fields shown under the record titled ``title``."""
    for node in card["body"]:
        if node.get("type") == "Container" and any(
            i.get("type") == "TextBlock" and i.get("text") == title for i in walk(node)
        ):
            return [label.lower() for label in field_labels(node)]
    raise AssertionError(f"no record titled {title!r} on the card")


async def test_the_card_shows_the_fields_of_the_dynamic_data_mapping(bot):
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    configs = await (await bot.client.get("/api/v1/configurations", headers=admin)).json()
    config_id = next(c["id"] for c in configs["configurations"] if c["isDefault"])
    await _start(bot)
    # once the related records are in (the first card or its PUT), the CRM's metadata is
    # too: its labels, in CRM order, without the repeats of the title (first and last name)
    puts = await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.card and "Schmidt Logistik GmbH" in texts(c.card)]
    )
    assert _record_facts(puts[-1].card, "Anna Schmidt")[:3] == ["email", "phone", "mobile"]

    response = await bot.client.post(
        f"/api/v1/configurations/{config_id}/dynamic-data-mappings",
        headers=admin,
        json={
            "name": "Card fields",
            "recordTypes": [
                {"recordType": "contact", "fields": ["email", "last_name", "preferred_language"]}
            ],
        },
    )
    assert response.status == 201, await response.text()
    status, _ = await bot.event(started(ANNA_AGENT))
    assert status == 202
    card = await bot.card_for(ANNA_AGENT, count=2)
    assert _record_facts(card, "Anna Schmidt") == ["email", "last name", "preferred language"]


async def test_several_matches_are_listed_to_choose_from(bot):
    _, card = await _start(bot, number="+49 40 5550190")
    assert "Several CRM records match" in texts(card)
    assert {"Klaus Wagner", "Petra Wagner"} <= set(pin_targets(card))
    assert pin_targets(card, "unpin") == {}


async def test_no_match_says_so_and_offers_search_and_create(bot):
    _, card = await _start(bot, number="+49 89 000000")
    assert "No matching CRM record found" in texts(card)
    assert actions(card, "search") and actions(card, "create_form")


async def test_digital_interaction_looks_up_the_email(bot):
    _, card = await _start(bot, channel="digital", number="familie.wagner@example.net")
    assert {"Klaus Wagner", "Petra Wagner"} <= set(pin_targets(card))
    assert "Digital contact" in texts(card)


async def test_pin_and_unpin_answer_with_the_card_and_update_the_message_in_place(bot):
    interaction_id, card = await _start(bot, number="+49 40 5550190")
    posted = len(bot.connector.posts(ANNA_AGENT.conversation_id))
    klaus = pin_targets(card)["Klaus Wagner"]
    status, body = await bot.activity(card_action(bot.service_url, ANNA_AGENT, "pin", klaus))
    assert status == 200
    updated = body["value"]
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Klaus Wagner" in pin_targets(updated, "unpin")
    put = await bot.connector.wait_for(lambda calls: [c for c in calls if c.method == "PUT"])
    assert "Klaus Wagner" in pin_targets(put[-1].card, "unpin")
    message_id = put[-1].path.rsplit("/", 1)[1]
    first_card = bot.connector.posts(ANNA_AGENT.conversation_id)[posted - 1]
    assert message_id.startswith("act-") and first_card.card.get("msteams")

    status, body = await bot.activity(card_action(bot.service_url, ANNA_AGENT, "unpin", klaus))
    assert "Klaus Wagner" not in pin_targets(body["value"], "unpin")
    await bot.connector.wait_for(
        lambda calls: (
            len([c for c in calls if c.method == "PUT"]) >= 2
            and "Klaus Wagner"
            not in pin_targets([c for c in calls if c.method == "PUT"][-1].card, "unpin")
        )
    )
    assert len(bot.connector.posts(ANNA_AGENT.conversation_id)) == posted  # no new message


async def test_a_card_an_action_drew_is_not_put_over_a_later_change(bot):
    """A card action hands the card it answered with to the message update; a change
    committed after that action's own (here: records a workflow adds) wins over it."""
    interaction_id, _ = await _start(bot, number="+49 40 5550190")
    services = bot.client.app[SERVICES]
    sync = services.delivery
    await sync.drain()  # the posted card's id is stored
    async with services.sessions() as session:
        row, installation = await store.interaction_and_installation(session, interaction_id)
    assert installation is not None and row.card_activity_id
    action = services.changes.committed(interaction_id)  # an action committed and drew its card ...
    extra = CrmRecord(type="case", id="cas-late", title="Late case", url="")
    await services.actions.show_records(interaction_id, related=[extra])  # ... then this
    stale = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "drawn before the late case"}],
    }
    sync.schedule(
        interaction_id,
        PreparedCard(  # the action hands its card over late
            card=stale,
            reference=installation.reference,
            activity_id=row.card_activity_id,
            change=action,
        ),
    )
    await sync.drain()
    last = bot.connector.puts(ANNA_AGENT.conversation_id)[-1].card
    assert "Late case" in pin_targets(last) and "drawn before" not in texts(last)


async def test_search_puts_results_into_related(bot):
    interaction_id, _ = await _start(bot, number="+49 89 000000")
    status, body = await bot.activity(
        card_action(
            bot.service_url,
            ANNA_AGENT,
            "search",
            {"interactionId": interaction_id, "query": "Wagner"},
        )
    )
    assert status == 200
    assert {"Klaus Wagner", "Petra Wagner"} <= set(pin_targets(body["value"]))
    status, body = await bot.activity(
        card_action(
            bot.service_url,
            ANNA_AGENT,
            "search",
            {"interactionId": interaction_id, "query": "Nobody-by-this-name"},
        )
    )
    assert "The search found no records." in texts(body["value"])


async def test_create_validates_in_the_dialog_then_pins_the_record(bot):
    interaction_id, card = await _start(bot, number="+49 89 000000")
    assert actions(card, "create_form")
    status, body = await bot.activity(
        task(
            bot.service_url,
            ANNA_AGENT,
            "task/fetch",
            {"verb": "create_form", "interactionId": interaction_id, "createType": "contact"},
        )
    )
    assert status == 200 and body["task"]["type"] == "continue"
    form = body["task"]["value"]["card"]["content"]
    assert "Last Name" in texts(form)

    submit = {
        "verb": "create",
        "interactionId": interaction_id,
        "recordType": "contact",
        "first_name": "Nina",
        "last_name": "",
        "email": "nina@example.org",
    }
    status, body = await bot.activity(task(bot.service_url, ANNA_AGENT, "task/submit", submit))
    assert body["task"]["type"] == "continue"
    again = body["task"]["value"]["card"]["content"]
    assert "This field is required." in texts(again) and "Nina" in texts(again)

    submit["last_name"] = "Neumann"
    status, body = await bot.activity(task(bot.service_url, ANNA_AGENT, "task/submit", submit))
    assert body == {"task": {"type": "message", "value": "Record created and pinned."}}
    put = await bot.connector.wait_for(
        lambda calls: [
            c for c in calls if c.method == "PUT" and "Nina Neumann" in pin_targets(c.card, "unpin")
        ]
    )
    assert put


async def test_edit_saves_through_the_crm(bot):
    interaction_id, card = await _start(bot)
    edit = actions(card, "edit_form")[0]
    status, body = await bot.activity(task(bot.service_url, ANNA_AGENT, "task/fetch", edit))
    form = body["task"]["value"]["card"]["content"]
    assert "0171 2345678" in texts(form)
    submit = {
        "verb": "edit",
        "interactionId": interaction_id,
        "recordType": edit["recordType"],
        "recordId": edit["recordId"],
        "first_name": "Anna",
        "last_name": "Schmidt",
        "email": "anna.schmidt@schmidt-logistik.example",
        "phone": "+49 30 1234567",
        "mobile_phone": "0171 9999999",
        "mailing_city": "Berlin",
        "preferred_language": "de",
    }
    status, body = await bot.activity(task(bot.service_url, ANNA_AGENT, "task/submit", submit))
    assert body["task"] == {"type": "message", "value": "Record saved."}
    await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "PUT" and "0171 9999999" in texts(c.card)]
    )
    status, body = await bot.activity(
        card_action(bot.service_url, ANNA_AGENT, "refresh", {"interactionId": interaction_id})
    )
    assert "0171 9999999" in texts(body["value"])


async def test_only_the_assigned_agent_can_act(bot):
    interaction_id, card = await _start(bot, number="+49 40 5550190")
    await bot.install(OTHER)
    klaus = pin_targets(card)["Klaus Wagner"]
    status, body = await bot.activity(card_action(bot.service_url, OTHER, "pin", klaus))
    view = body["value"]
    assert "Only the agent assigned to this interaction can act on this card." in texts(view)
    assert pin_targets(view) == {} and "refresh" not in view
    status, body = await bot.activity(
        card_action(bot.service_url, ANNA_AGENT, "refresh", {"interactionId": interaction_id})
    )
    assert pin_targets(body["value"], "unpin") == {}  # nothing was pinned


async def test_transfer_moves_the_card_and_the_first_turns_read_only(bot):
    interaction_id, card = await _start(bot, number="+49 40 5550190")
    klaus = pin_targets(card)["Klaus Wagner"]
    await bot.activity(card_action(bot.service_url, ANNA_AGENT, "pin", klaus))
    await bot.install(BOB_AGENT)
    status, state = await bot.event(
        follow_up(
            interaction_id,
            "transferred",
            agent={"id": "cx-2", "name": BOB_AGENT.name, "aadObjectId": BOB_AGENT.aad},
        )
    )
    assert status == 202 and state["state"] == "transferred"
    bob_card = await bot.card_for(BOB_AGENT)
    assert "Klaus Wagner" in pin_targets(bob_card, "unpin")
    old = await bot.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "PUT"
            and c.conversation_id == ANNA_AGENT.conversation_id
            and "transferred to another agent" in texts(c.card)
        ]
    )
    assert pin_targets(old[-1].card, "unpin") == {}
    status, body = await bot.activity(card_action(bot.service_url, ANNA_AGENT, "unpin", klaus))
    assert "transferred to another agent" in texts(body["value"])


async def test_events_for_an_agent_without_install_wait_for_the_install(bot):
    status, body = await bot.event(started(BOB_AGENT))
    assert status == 409 and "not installed" in body["message"]
    await bot.install(BOB_AGENT)
    card = await bot.card_for(BOB_AGENT)
    assert "Anna Schmidt" in texts(card)


async def test_end_and_wrap_up_close_the_card(bot):
    interaction_id, _ = await _start(bot)
    status, state = await bot.event(follow_up(interaction_id, "ended", endedBy="contact"))
    assert status == 202 and state["state"] == "ended"
    status, state = await bot.event(follow_up(interaction_id, "acw_completed"))
    assert state["state"] == "acw_completed"
    put = await bot.connector.wait_for(
        lambda calls: [
            c for c in calls if c.method == "PUT" and "interaction is closed" in texts(c.card)
        ]
    )
    assert "refresh" not in put[-1].card


async def test_german_locale(bot):
    await bot.install(ANNA_AGENT, locale="de-DE")
    await bot.event(started(ANNA_AGENT, number="+49 89 000000"))
    card = await bot.card_for(ANNA_AGENT)
    assert card["lang"] == "de"
    assert "Aktuelle Interaktion" in texts(card) or "Kein passender" in texts(card)
    status, _ = await bot.activity(message(bot.service_url, ANNA_AGENT, "hilfe?", locale="de-DE"))
    reply = bot.connector.posts(ANNA_AGENT.conversation_id)[-1].card
    assert "Diesen Befehl kenne ich nicht" in texts(reply)


async def test_message_extension_searches_the_crm(bot):
    from .activities import compose_query

    await bot.install(ANNA_AGENT)
    status, body = await bot.activity(compose_query(bot.service_url, ANNA_AGENT, "Wagner"))
    assert status == 200
    result = body["composeExtension"]
    titles = [a["preview"]["content"]["title"] for a in result["attachments"]]
    assert "Klaus Wagner" in titles
    assert result["attachments"][0]["content"]["type"] == "AdaptiveCard"


async def test_text_commands_help_whoami_and_simulate(bot):
    await bot.install(ANNA_AGENT)
    await bot.activity(message(bot.service_url, ANNA_AGENT, "whoami"))
    whoami = bot.connector.posts(ANNA_AGENT.conversation_id)[-1].card
    assert ANNA_AGENT.teams_id in texts(whoami) and ANNA_AGENT.aad in texts(whoami)
    assert ANNA_AGENT.email in texts(whoami)

    status, _ = await bot.activity(
        message(bot.service_url, ANNA_AGENT, "<at>Customer Card</at> simulate call +49 30 1234567")
    )
    assert status in (200, 202)
    card = await bot.card_for(ANNA_AGENT)
    assert "Anna Schmidt" in pin_targets(card, "unpin")
    await bot.activity(message(bot.service_url, ANNA_AGENT, "search Wagner"))
    await bot.connector.wait_for(
        lambda calls: [
            c for c in calls if c.method == "PUT" and "Klaus Wagner" in pin_targets(c.card)
        ]
    )
    await bot.activity(message(bot.service_url, ANNA_AGENT, "simulate end"))
    await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "PUT" and "Ended" in texts(c.card)]
    )


async def test_simulate_is_refused_outside_development_mode(make_bot):
    bot = await make_bot(dev_mode=False)
    await bot.install(ANNA_AGENT)
    await bot.activity(message(bot.service_url, ANNA_AGENT, "simulate call +49 30 1234567"))
    reply = bot.connector.posts(ANNA_AGENT.conversation_id)[-1].card
    assert "development mode only" in texts(reply)


async def test_connector_throttling_is_retried(bot):
    await bot.install(ANNA_AGENT)
    bot.connector.fail_next.extend([429, 502])
    await bot.event(started(ANNA_AGENT))
    card = await bot.card_for(ANNA_AGENT)
    assert "Anna Schmidt" in texts(card)
