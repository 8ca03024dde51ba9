"""Every HTTP error answer, on each endpoint family, has the one body the OpenAPI document
describes as ``Error`` (built by ``bot.api.errors.error_body``)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from bot.api.errors import error_body
from bot.services import SERVICES

from .activities import ANNA_AGENT, message
from .conftest import ADMIN_KEY, AUTH, METRICS_AUTH, started

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
WRONG = {"Authorization": "Bearer wrong"}


async def _error_schema(bot: Any) -> dict[str, Any]:
    document = await (await bot.client.get("/api/v1/openapi.json", headers=AUTH)).json()
    schema: dict[str, Any] = document["components"]["schemas"]["Error"]
    return schema


async def _answer(bot: Any, method: str, path: str, **kw: Any) -> tuple[int, Any, Any]:
    response = await bot.client.request(method, path, **kw)
    return response.status, await response.json(), response.headers


def test_the_body_leaves_out_what_is_unknown() -> None:
    assert error_body(404, "not_found", "No such thing.") == {
        "error": "not_found",
        "message": "No such thing.",
        "status": 404,
    }
    assert error_body(400, "invalid_field", "x: bad", field="a.x", details={"n": 1}) == {
        "error": "invalid_field",
        "message": "x: bad",
        "status": 400,
        "field": "a.x",
        "details": {"n": 1},
    }


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("POST", "/api/v1/interactions/events", {}, 401, "unauthorized"),
        ("GET", "/api/v1/interactions/ix-none", AUTH, 404, "unknown_interaction"),
        ("GET", "/api/v1/configurations", WRONG, 401, "unauthorized"),
        ("GET", "/api/v1/configurations", METRICS_AUTH, 403, "insufficient_scope"),
        ("GET", "/api/v1/configurations/nope", ADMIN, 404, None),
        ("POST", "/api/v1/workflows/execute", WRONG, 401, "unauthorized"),
        ("GET", "/api/v1/memorializations/999", AUTH, 404, None),
        ("GET", "/api/v1/memorializations?limit=x", AUTH, 400, None),
        ("GET", "/metrics", WRONG, 401, "unauthorized"),
        ("GET", "/api/v1/openapi.json", {}, 401, "unauthorized"),
        ("DELETE", "/api/v1/openapi.json", AUTH, 405, "method_not_allowed"),
        ("GET", "/api/v1/no-such-endpoint", AUTH, 404, "not_found"),
    ],
)
async def test_each_endpoint_family_answers_the_one_error_body(
    bot: Any, method: str, path: str, headers: dict[str, str], status: int, code: str | None
) -> None:
    schema = await _error_schema(bot)
    got, body, response_headers = await _answer(bot, method, path, headers=headers)
    assert got == status, body
    jsonschema.validate(body, schema)
    assert body["status"] == status and body["message"]
    if code is not None:
        assert body["error"] == code
    if status == 401:  # 401: no or a wrong credential, and how to present one
        assert response_headers["WWW-Authenticate"].startswith("Bearer")
    if status == 405:
        assert "GET" in response_headers["Allow"]


async def test_a_bad_field_is_named_in_the_body(bot: Any) -> None:
    schema = await _error_schema(bot)
    body = {**started(ANNA_AGENT), "channel": "fax"}
    status, answer, _ = await _answer(
        bot, "POST", "/api/v1/interactions/events", json=body, headers=AUTH
    )
    assert status == 400
    jsonschema.validate(answer, schema)
    assert (answer["error"], answer["field"]) == ("invalid_field", "channel")


async def test_the_bot_endpoint_answers_the_one_error_body(bot: Any) -> None:
    schema = await _error_schema(bot)
    response = await bot.client.post(
        "/api/messages", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    invalid = await response.json()
    jsonschema.validate(invalid, schema)
    assert invalid["error"] == "invalid_activity"
    response = await bot.client.post(
        "/api/messages",
        json=message(bot.service_url, ANNA_AGENT, "help"),
        headers={"Authorization": "Basic x"},
    )
    assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    refused = await response.json()
    jsonschema.validate(refused, schema)
    assert (refused["error"], refused["status"]) == ("unauthorized", 401)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_readiness_without_a_database_answers_the_one_error_body(
    bot: Any, database_url: str, tmp_path: Any
) -> None:
    schema = await _error_schema(bot)
    database = tmp_path / "test.db"
    await bot.client.app[SERVICES].engine.dispose()
    database.rename(tmp_path / "moved.db")
    database.mkdir()  # SQLite cannot open a directory as its file
    try:
        status, body, _ = await _answer(bot, "GET", "/readyz")
    finally:
        database.rmdir()
        (tmp_path / "moved.db").rename(database)
    assert status == 503
    jsonschema.validate(body, schema)
    assert body["error"] == "database_unavailable"
