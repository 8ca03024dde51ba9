"""``POST /api/v1/workflows/execute`` against the demo CRM: each kind, its effect on the
interaction's card, the error mapping (with a CRM that fails), and transfer carrying pins."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.bot.activities import ANNA_AGENT, BOB_AGENT, User, install
from tests.bot.conftest import follow_up, started

from .conftest import Api

# the demo CRM's sample data (docs/demo-crm.md)
ANI_ONE_MATCH = "+49301234567"  # Anna Schmidt
ANI_TWO_MATCHES = "+49 40 5550190"  # Klaus and Petra Wagner
ANI_NO_MATCH = "+49 30 0000000"
EXECUTE = "/api/v1/workflows/execute"
CONFIGS = "/api/v1/configurations"


async def run(
    api: Api,
    config_id: str,
    workflow: str,
    workflow_input: dict[str, Any] | None = None,
    **extra: Any,
) -> tuple[int, Any]:
    workflow_id = await api.workflow_id(config_id, workflow)
    body = {
        "configurationId": config_id,
        "workflowId": workflow_id,
        "payload": {"workflowInput": workflow_input or {}},
        **extra,
    }
    return await api.platform("POST", EXECUTE, body)


@pytest.fixture
async def config_id(api) -> str:  # type: ignore[no-untyped-def]
    return (await api.default_config())["id"]


class Desk:
    """An installed agent with a live interaction (the fake Teams connector records cards)."""

    def __init__(self, api: Api, connector: Any, service_url: str) -> None:
        self.api, self.connector, self.service_url = api, connector, service_url

    async def install(self, user: User) -> None:
        self.connector.members[user.teams_id] = user.member()
        response = await self.api.client.post("/api/messages", json=install(self.service_url, user))
        assert response.status in (200, 202)

    async def start(self, user: User, number: str, **extra: Any) -> str:
        event = started(user, number=number, **extra)
        status, body = await self.api.platform("POST", "/api/v1/interactions/events", event)
        assert status == 202, body
        return str(event["interactionId"])

    async def state(self, interaction_id: str) -> dict[str, Any]:
        status, body = await self.api.platform("GET", f"/api/v1/interactions/{interaction_id}")
        assert status == 200
        return body  # type: ignore[no-any-return]

    async def wait_state(self, interaction_id: str, check: Any) -> dict[str, Any]:
        # the card start-up look-up runs in the background: wait until it has settled
        for _ in range(200):
            state = await self.state(interaction_id)
            if check(state):
                return state
            await __import__("asyncio").sleep(0.02)
        raise AssertionError(f"state never settled: {state}")


@pytest.fixture
async def desk(api, connector, service_url) -> Desk:  # type: ignore[no-untyped-def]
    desk = Desk(api, connector, service_url)
    await desk.install(ANNA_AGENT)
    return desk


def titles(records: list[dict[str, Any]]) -> list[str]:
    return [r["title"] for r in records]


async def test_search_by_phone_outside_an_interaction(api, config_id):
    status, body = await run(
        api, config_id, "Search by phone number", {"phoneNumber": ANI_TWO_MATCHES}
    )
    assert status == 200, body
    assert body["workflowAction"] == "Search" and body["configurationId"] == config_id
    result = body["result"][0]
    assert result["system"]["type"] == "demo" and result["system"]["baseUrl"]
    assert sorted(titles(result["records"])) == ["Klaus Wagner", "Petra Wagner"]
    assert result["pinRecords"] == []
    record = result["records"][0]
    assert record["label"] == "Contact" and record["type"] == "contact"
    assert record["link"] == result["system"]["baseUrl"] + record["url"]
    assert record["screenPop"] is False


async def test_search_by_email_and_screen_pop(api, config_id):
    status, body = await run(
        api,
        config_id,
        "Search by email address",
        {"email": "anna.schmidt@schmidt-logistik.example"},
        options={"screenPop": True},
    )
    assert status == 200, body
    records = body["result"][0]["records"]
    assert titles(records) == ["Anna Schmidt"] and records[0]["screenPop"] is True


async def test_dynamic_search_with_interaction_references(api, config_id, desk):
    interaction_id = await desk.start(ANNA_AGENT, ANI_NO_MATCH)
    await desk.wait_state(interaction_id, lambda s: s["matchOutcome"] != "unsearched")
    criteria = [
        {
            "recordType": "contact",
            "condition": "or",
            "columns": [
                {"field": "email", "operator": "equals", "value": "{Skill Name}@nowhere.example"},
                {
                    "field": "email",
                    "operator": "equals",
                    "value": "anna.schmidt@schmidt-logistik.example",
                },
            ],
        }
    ]
    status, body = await run(
        api, config_id, "Custom search", {"search": criteria}, interactionId=interaction_id
    )
    assert status == 200, body
    assert titles(body["result"][0]["records"]) == ["Anna Schmidt"]
    state = await desk.wait_state(interaction_id, lambda s: s["related"])
    assert "Anna Schmidt" in titles(state["related"]) and not state["current"]

    # a reference to data the interaction does not have, or with no interaction at all
    criteria[0]["columns"][0]["value"] = "{Favourite Colour}"
    status, body = await run(
        api, config_id, "Custom search", {"search": criteria}, interactionId=interaction_id
    )
    assert status == 400
    assert body["field"] == "payload.workflowInput.search[0].columns[0].value"
    assert "no field or script variable 'Favourite Colour'" in body["message"]
    criteria[0]["columns"][0]["value"] = "{ANI}"
    status, body = await run(api, config_id, "Custom search", {"search": criteria})
    assert status == 400 and "names no interaction" in body["message"]
    status, body = await run(
        api, config_id, "Custom search", {"search": criteria, "interactionData": {"ANI": "+4930"}}
    )
    assert status == 200, body


async def test_search_with_pin_fills_current_interaction(api, config_id, desk):
    interaction_id = await desk.start(ANNA_AGENT, ANI_NO_MATCH)
    await desk.wait_state(interaction_id, lambda s: s["matchOutcome"] != "unsearched")
    status, body = await run(
        api,
        config_id,
        "Search by phone number",
        {"phoneNumber": ANI_ONE_MATCH},
        interactionId=interaction_id,
        options={"pin": True},
    )
    assert status == 200, body
    assert titles(body["result"][0]["pinRecords"]) == ["Anna Schmidt"]
    state = await desk.state(interaction_id)
    assert titles(state["current"]) == ["Anna Schmidt"]
    card = await desk.connector.wait_for(
        lambda calls: [c for c in calls if c.card and "Anna Schmidt" in str(c.card)]
    )
    assert card


async def test_create_standard_and_custom(api, config_id, desk):
    interaction_id = await desk.start(ANNA_AGENT, ANI_NO_MATCH)
    await desk.wait_state(interaction_id, lambda s: s["matchOutcome"] != "unsearched")
    status, body = await run(
        api,
        config_id,
        "Create standard record",
        {
            "recordType": "contact",
            "fields": {"first_name": "Nora", "last_name": "Neu", "phone": "{ANI}"},
        },
        interactionId=interaction_id,
    )
    assert status == 200, body
    created = body["result"][0]["pinRecords"][0]
    assert created["title"] == "Nora Neu" and body["result"][0]["records"][0]["id"] == created["id"]
    assert {"name": "phone", "label": "Phone", "value": ANI_NO_MATCH} in created["fields"]
    state = await desk.state(interaction_id)
    assert titles(state["current"]) == ["Nora Neu"]

    status, body = await run(
        api,
        config_id,
        "Create standard record",
        {"recordType": "custom_subscription", "fields": {"name": "Gold"}},
    )
    assert status == 400 and body["field"] == "payload.workflowInput.recordType"
    assert "custom record type" in body["message"]
    status, body = await run(
        api,
        config_id,
        "Create custom record",
        {"entity": "custom_subscription", "data": {"name": "Gold", "monthly_fee": 9.5}},
    )
    assert status == 200, body
    assert body["result"][0]["pinRecords"][0]["type"] == "custom_subscription"
    status, body = await run(
        api,
        config_id,
        "Create standard record",
        {"recordType": "contact", "fields": {"shoe_size": "42"}},
    )
    assert status == 400 and body["field"] == "payload.workflowInput.fields.shoe_size"
    status, body = await run(api, config_id, "Create standard record", {"recordType": "contact"})
    assert status == 400 and body["field"] == "payload.workflowInput.fields"


async def test_update_a_record(api, config_id):
    status, found = await run(
        api, config_id, "Search by phone number", {"phoneNumber": ANI_ONE_MATCH}
    )
    anna = found["result"][0]["records"][0]
    status, body = await run(
        api,
        config_id,
        "Update record",
        {"recordType": "contact", "id": anna["id"], "fields": {"title": "Head of Logistics"}},
    )
    assert status == 200, body
    record = body["result"][0]["records"][0]
    assert {"name": "title", "label": "Title", "value": "Head of Logistics"} in record["fields"]
    status, body = await run(
        api, config_id, "Update record", {"recordType": "contact", "fields": {"title": "x"}}
    )
    assert status == 400 and body["field"] == "payload.workflowInput.id"
    status, body = await run(
        api,
        config_id,
        "Update record",
        {"recordType": "contact", "id": anna["id"], "fields": {"nickname": "x"}},
    )
    assert status == 400 and body["field"] == "payload.workflowInput.fields.nickname"
    status, body = await run(
        api,
        config_id,
        "Update record",
        {"recordType": "contact", "id": "con-missing", "fields": {"title": "x"}},
    )
    assert status == 404 and body["error"] == "crm_not_found"


async def test_timeline_links_once_per_interaction(api, config_id, desk):
    interaction_id = await desk.start(ANNA_AGENT, ANI_ONE_MATCH)
    await desk.wait_state(interaction_id, lambda s: s["current"])
    status, body = await run(api, config_id, "Timeline", {}, interactionId=interaction_id)
    assert status == 200, body
    assert [(t["recordType"], t["created"]) for t in body["timeline"]] == [("contact", True)]
    status, again = await run(api, config_id, "Timeline", {}, interactionId=interaction_id)
    assert [t["created"] for t in again["timeline"]] == [False]
    assert again["timeline"][0]["activityId"] == body["timeline"][0]["activityId"]
    status, body = await run(api, config_id, "Timeline", {})
    assert status == 400 and body["field"] == "interactionId"


async def test_memorialization_writes_mapped_fields(api, config_id, desk):
    status, mapping = await api.admin(
        "POST",
        f"{CONFIGS}/{config_id}/data-mappings",
        {
            "name": "Call data",
            "recordTypes": [
                {
                    "recordType": "contact",
                    "fields": [
                        {
                            "crmField": "description",
                            "source": {"channel": "voice", "field": "Disposition Notes"},
                        },
                        {
                            "crmField": "department",
                            "source": {"channel": "script_variable", "field": "accountnumber"},
                        },
                    ],
                }
            ],
        },
    )
    assert status == 201, mapping
    event = started(ANNA_AGENT, number=ANI_ONE_MATCH)
    event["data"]["Disposition Notes"] = "Wants a callback"
    event["scriptVariables"] = {"accountnumber": "A-17"}
    status, _ = await api.platform("POST", "/api/v1/interactions/events", event)
    interaction_id = event["interactionId"]
    await desk.wait_state(interaction_id, lambda s: s["current"])
    status, body = await run(
        api, config_id, "Data memorialization", {}, interactionId=interaction_id
    )
    assert status == 200, body
    assert body["memorialized"][0]["written"] == ["department", "description"]
    status, found = await run(
        api, config_id, "Search by phone number", {"phoneNumber": ANI_ONE_MATCH}
    )
    status, shown = await api.admin("GET", f"{CONFIGS}/{config_id}/entities/contact/fields")
    record = found["result"][0]["records"][0]
    values = {f["name"]: f["value"] for f in record["fields"]}
    assert values["description"] == "Wants a callback" and values["department"] == "A-17"


async def test_request_errors(api, config_id):
    search = await api.workflow_id(config_id, "Search by phone number")
    cases = [
        ({"configurationId": "cfg-nope", "workflowId": search}, 404, "configurationId"),
        ({"configurationId": config_id, "workflowId": "wf-nope"}, 404, "workflowId"),
        (
            {
                "configurationId": config_id,
                "workflowId": search,
                "interactionId": "ix-nope",
                "payload": {"workflowInput": {"phoneNumber": "1"}},
            },
            404,
            "interactionId",
        ),
        (
            {
                "configurationId": config_id,
                "workflowId": search,
                "payload": {"workflowInput": {"phoneNumber": 49301234567}},
            },
            400,
            "payload.workflowInput.phoneNumber",
        ),
        (
            {
                "configurationId": config_id,
                "workflowId": search,
                "payload": {"workflowInput": {"phone": "1"}},
            },
            400,
            "payload.workflowInput.phone",
        ),
        ({"workflowId": search}, 400, "configurationId"),
        (
            {"configurationId": config_id, "workflowId": search},
            400,
            "payload.workflowInput.phoneNumber",
        ),
        (
            {
                "configurationId": config_id,
                "workflowId": search,
                "options": {"dynamicDataMappingId": "ddm-nope"},
                "payload": {"workflowInput": {"phoneNumber": "1"}},
            },
            404,
            "options.dynamicDataMappingId",
        ),
    ]
    for body, status_expected, field in cases:
        status, answer = await api.platform("POST", EXECUTE, body)
        assert status == status_expected, (body, answer)
        assert answer["field"] == field, (body, answer)
    status, answer = await api.call("POST", EXECUTE, {}, headers={})
    assert status == 401
    # an inactive workflow is not run
    status, _ = await api.admin("POST", f"{CONFIGS}/{config_id}/workflows/{search}/deactivate")
    status, answer = await api.platform(
        "POST", EXECUTE, {"configurationId": config_id, "workflowId": search}
    )
    assert status == 404 and "Inactive workflow" in answer["message"]


FLAKY_KEY = "sk-live-" + uuid.uuid4().hex


async def flaky_config(api: Api, url: str) -> str:
    status, body = await api.admin(
        "POST",
        CONFIGS,
        {
            "name": "Flaky",
            "type": "flaky",
            "settings": {"api_base": url, "timeout_seconds": 0.3},
            "secrets": {"api_key": FLAKY_KEY},
        },
    )
    assert status == 201, body
    return str(body["id"])


async def test_crm_failures_map_to_statuses(api, flaky_vendor, all_logs):
    vendor, url = flaky_vendor
    config_id = await flaky_config(api, url)
    status, body = await run(api, config_id, "Search by phone number", {"phoneNumber": "1"})
    assert status == 200 and titles(body["result"][0]["records"]) == ["Flaky Person"]

    vendor.mode = "reject"
    status, body = await run(api, config_id, "Search by phone number", {"phoneNumber": "1"})
    assert status == 422 and body["error"] == "crm_rejected"
    assert body["details"]["reason"] == "Field phone is invalid for key Bearer ***"
    status, body = await api.admin("POST", f"{CONFIGS}/{config_id}/test")
    assert status == 422

    vendor.mode = "error"
    status, body = await run(
        api,
        config_id,
        "Update record",
        {"recordType": "contact", "id": "1", "fields": {"name": "x"}},
    )
    assert status == 502 and body["error"] == "crm_unavailable"

    vendor.mode = "hang"
    status, body = await run(api, config_id, "Search by phone number", {"phoneNumber": "1"})
    assert status == 504 and body["error"] == "crm_unavailable"
    status, body = await api.admin("POST", f"{CONFIGS}/{config_id}/test")
    assert status == 504

    for body_text in api.bodies:
        assert "Traceback" not in body_text
    api.assert_never_sent(FLAKY_KEY)
    assert FLAKY_KEY not in all_logs.text


async def test_unreachable_crm_is_502(api, flaky_vendor, unused_tcp_port):
    config_id = await flaky_config(api, f"http://127.0.0.1:{unused_tcp_port}")
    status, body = await run(api, config_id, "Search by phone number", {"phoneNumber": "1"})
    assert status == 502 and body["error"] == "crm_unavailable"
    api.assert_never_sent(FLAKY_KEY)


async def test_transfer_carries_pins(api, config_id, desk):
    await desk.install(BOB_AGENT)
    interaction_id = await desk.start(ANNA_AGENT, ANI_ONE_MATCH)
    await desk.wait_state(interaction_id, lambda s: s["current"])
    status, body = await run(
        api,
        config_id,
        "Create standard record",
        {"recordType": "case", "fields": {"subject": "Parcel lost"}},
        interactionId=interaction_id,
    )
    assert status == 200, body
    bob = {"id": "cx-agent-2", "name": BOB_AGENT.name, "aadObjectId": BOB_AGENT.aad}
    status, state = await api.platform(
        "POST", "/api/v1/interactions/events", follow_up(interaction_id, "transferred", agent=bob)
    )
    assert status == 202, state
    assert sorted(titles(state["current"])) == ["Anna Schmidt", "Parcel lost"]
    card = await desk.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.card
            and c.conversation_id == BOB_AGENT.conversation_id
            and "Parcel lost" in str(c.card)
        ]
    )
    assert "Anna Schmidt" in str(card[0].card)
