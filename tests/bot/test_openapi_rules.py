"""The OpenAPI document states what the server enforces, and the server keeps to it: 405
with a true Allow on every path, every 4xx documented with the one error body, ids with
their range, members an event type requires."""

from __future__ import annotations

import re
from typing import Any

import jsonschema

from .activities import ANNA_AGENT
from .conftest import ADMIN_KEY, AUTH, Bot, started

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def _document(bot: Bot) -> dict[str, Any]:
    response = await bot.client.get("/api/v1/openapi.json", headers=AUTH)
    document: dict[str, Any] = await response.json()
    return document


async def test_every_path_answers_405_with_a_true_allow(bot: Bot) -> None:
    document = await _document(bot)
    error = document["components"]["schemas"]["Error"]
    paths = {**document["paths"], "/api/messages": {"post": {}}}
    patterns = {t: re.compile(re.sub(r"\{[^}]+\}", "[^/]+", t) + "$") for t in paths}
    for template in paths:
        path = template.replace("{", "x").replace("}", "")  # any value matches a parameter
        # every template the URL matches counts (/interactions/events is also an id)
        declared = {m.upper() for t, p in patterns.items() if p.match(path) for m in paths[t]}
        for method in set(METHODS) - declared:
            response = await bot.client.request(method, path, headers=ADMIN)
            assert response.status == 405, (method, path, response.status)
            allowed = {m.strip() for m in response.headers["Allow"].split(",")} - {"HEAD"}
            assert allowed == declared, (method, path, response.headers["Allow"])
            if path.startswith("/api/v1"):
                jsonschema.validate(await response.json(), error)


async def test_every_error_answer_is_documented_with_the_error_body(bot: Bot) -> None:
    document = await _document(bot)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4") or status.startswith("5"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
            if operation.get("parameters"):
                assert "400" in operation["responses"], (method, path)


async def test_ids_and_limits_state_their_range(bot: Bot) -> None:
    document = await _document(bot)
    one = document["paths"]["/api/v1/memorializations/{id}"]["get"]["parameters"]
    assert one == [
        {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        }
    ]
    listed = document["paths"]["/api/v1/memorializations"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("minimum") for p in listed} == {
        "status": None,
        "interactionId": None,
        "limit": 1,
        "beforeId": 1,
    }
    response = await bot.client.get("/api/v1/memorializations/0", headers=AUTH)
    assert response.status == 400 and (await response.json())["field"] == "id"


async def test_the_members_an_event_type_requires_are_in_the_document(bot: Bot) -> None:
    document = await _document(bot)
    event = document["components"]["schemas"]["InteractionEvent"]
    without_agent = {k: v for k, v in started(ANNA_AGENT).items() if k != "agent"}
    jsonschema.validate({**without_agent, "type": "ended"}, event)
    try:
        jsonschema.validate(without_agent, event)
        raise AssertionError("a started event without agent fits the document")
    except jsonschema.ValidationError:
        pass
    status, answer = await bot.event(without_agent)  # and the server refuses it the same
    assert status == 400 and answer["field"] == "agent", answer
