"""Hand-written hostile input on every endpoint that reads it, on SQLite and PostgreSQL: deep
JSON, integers past 64 bits (or past what Python parses by default), NaN, NUL characters and
lone surrogates in bodies, paths and query strings. Every one is a 4xx with the one error
body naming the field where there is one; none is a 500, and no ERROR line is logged."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from .activities import ANNA_AGENT, message
from .conftest import ADMIN_KEY, AUTH, Bot, started

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
JSON = {"Content-Type": "application/json"}
DEEP = 50_000  # levels: well past the JSON parser's recursion limit
CFG = "/api/v1/configurations"

# endpoint -> (method, path, headers, a valid body the hostile value is put into)
JSON_ENDPOINTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "event": ("POST", "/api/v1/interactions/events", AUTH),
    "execute": ("POST", "/api/v1/workflows/execute", AUTH),
    "create configuration": ("POST", CFG, ADMIN),
    "replace configuration": ("PUT", CFG + "/{cfg}", ADMIN),
    "patch configuration": ("PATCH", CFG + "/{cfg}", ADMIN),
    "startup": ("PUT", CFG + "/{cfg}/startup", ADMIN),
    "memorialization mapping": ("POST", CFG + "/{cfg}/data-mappings", ADMIN),
    "dynamic mapping": ("POST", CFG + "/{cfg}/dynamic-data-mappings", ADMIN),
    "workflow": ("POST", CFG + "/{cfg}/workflows", ADMIN),
    "replace workflow": ("PUT", CFG + "/{cfg}/workflows/{wf}", ADMIN),
    "messages (anonymous)": ("POST", "/api/messages", {}),
}


@pytest.fixture
async def hostile_bot(make_bot: Any) -> Bot:
    bot: Bot = await make_bot(max_body_bytes=1024 * 1024)
    return bot


async def _ids(bot: Bot) -> dict[str, str]:
    response = await bot.client.get(CFG, headers=ADMIN)
    config = next(c for c in (await response.json())["configurations"] if c["isDefault"])
    response = await bot.client.get(f"{CFG}/{config['id']}/workflows", headers=ADMIN)
    workflow = (await response.json())["workflows"][0]["workflowId"]
    return {"cfg": config["id"], "wf": workflow}


def _valid_bodies(bot: Bot, ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        "event": started(ANNA_AGENT),
        "execute": {
            "configurationId": ids["cfg"],
            "workflowId": ids["wf"],
            "payload": {"workflowInput": {"search": "Anna"}},
        },
        "create configuration": {"name": "x", "type": "demo"},
        "replace configuration": {"name": "x", "type": "demo"},
        "patch configuration": {"description": "x"},
        "startup": {"steps": [{"step": "search"}]},
        "memorialization mapping": {"name": "m", "recordTypes": []},
        "dynamic mapping": {"name": "d", "recordTypes": [{"recordType": "contact"}]},
        "workflow": {"kind": "search", "name": "w"},
        "replace workflow": {"kind": "search", "name": "w"},
        "messages (anonymous)": message(bot.service_url, ANNA_AGENT, "help"),
    }


async def _send(
    bot: Bot, endpoint: str, ids: dict[str, str], raw: bytes
) -> tuple[int, dict[str, Any]]:
    method, path, headers = JSON_ENDPOINTS[endpoint]
    response = await bot.client.request(
        method, path.format(**ids), data=raw, headers={**headers, **JSON}
    )
    text = await response.text()
    return response.status, json.loads(text) if text else {}


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("endpoint", list(JSON_ENDPOINTS))
async def test_deeply_nested_json_is_a_400(
    hostile_bot: Bot, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _ids(hostile_bot)
    body = json.dumps(_valid_bodies(hostile_bot, ids)[endpoint])
    # as the whole body, and as one member's value (a valid document otherwise)
    for raw in (_deep(DEEP), body[:-1] + f', "deep": {_deep(DEEP)}}}'):
        status, answer = await _send(hostile_bot, endpoint, ids, raw.encode())
        assert status == 400, (raw[:80], answer)
        assert answer["status"] == 400 and answer["error"] in ("invalid_json", "invalid_activity")
    _no_errors_logged(caplog)


NUMBERS = ("1" * 5000, str(2**63), str(-(2**63) - 1), "1e999", "NaN", "-Infinity")


@pytest.mark.parametrize("endpoint", list(JSON_ENDPOINTS))
async def test_numbers_outside_64_bits_or_json_are_a_400_naming_the_field(
    hostile_bot: Bot, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _ids(hostile_bot)
    body = json.dumps(_valid_bodies(hostile_bot, ids)[endpoint])
    for number in NUMBERS:
        raw = body[:-1] + f', "n": [0, {{"v": {number}}}]}}'
        status, answer = await _send(hostile_bot, endpoint, ids, raw.encode())
        assert status == 400, (number[:20], answer)
        if endpoint != "messages (anonymous)":
            assert answer["field"] == "n[1].v", answer
    _no_errors_logged(caplog)


@pytest.mark.parametrize("endpoint", list(JSON_ENDPOINTS))
async def test_nul_and_surrogates_in_any_body_string_are_a_400_naming_the_field(
    hostile_bot: Bot, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _ids(hostile_bot)
    valid = _valid_bodies(hostile_bot, ids)[endpoint]
    cases = [
        (body, field)
        for text in ("a\u0000b", "\ud800")
        for body, field in (
            ({**valid, "description": text}, "description"),
            ({**valid, "data": {"Note": ["ok", text]}}, "data.Note[1]"),
            ({**valid, "data": {text: 1}}, "data"),
        )
    ]
    for body, field in cases:
        raw = json.dumps(body).encode()  # ensure_ascii: \u0000 and \ud800 as escapes
        status, answer = await _send(hostile_bot, endpoint, ids, raw)
        assert status == 400, (field, answer)
        if endpoint != "messages (anonymous)":
            assert answer["field"].startswith(field), answer
    _no_errors_logged(caplog)


async def test_nul_in_the_message_text_of_an_activity_is_a_400(hostile_bot: Bot) -> None:
    activity = message(hostile_bot.service_url, ANNA_AGENT, "hel\u0000p")
    status, answer = await hostile_bot.activity(activity)
    assert status == 400 and answer["error"] == "invalid_activity", answer


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/api/v1/interactions/ix%00a", "interaction_id"),
        ("GET", CFG + "/cfg%00", "configuration_id"),
        ("DELETE", CFG + "/cfg%00", "configuration_id"),
        ("GET", CFG + "/{cfg}/workflows/wf%00", "item_id"),
        ("GET", CFG + "/{cfg}/entities/contact%00/fields", "record_type"),
        ("GET", "/api/v1/memorializations?interactionId=a%00b", "interactionId"),
        ("GET", "/api/v1/memorializations?status=%00", "status"),
        ("GET", "/api/v1/memorializations/" + "9" * 30, "id"),
        ("GET", "/api/v1/memorializations/" + "9" * 5000, "id"),
        ("POST", f"/api/v1/memorializations/{2**63}/retry", "id"),
        ("GET", f"/api/v1/memorializations?beforeId={2**63}", "beforeId"),
        ("GET", f"/api/v1/memorializations?limit={'9' * 5000}", "limit"),
        ("GET", "/api/v1/memorializations?limit=-1", "limit"),
    ],
)
async def test_nul_and_big_integers_in_paths_and_queries_are_a_400(
    hostile_bot: Bot, method: str, path: str, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _ids(hostile_bot)
    headers = ADMIN if path.startswith(CFG) else AUTH
    response = await hostile_bot.client.request(method, path.format(**ids), headers=headers)
    answer = await response.json()
    assert response.status == 400, answer
    assert answer["field"] == field, answer
    _no_errors_logged(caplog)


async def test_an_out_of_range_time_is_a_400(hostile_bot: Bot) -> None:
    for when in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        status, answer = await hostile_bot.event({**started(ANNA_AGENT), "occurredAt": when})
        assert status == 400 and answer["field"] == "occurredAt", answer


async def test_a_very_large_header_writes_no_error_line(
    hostile_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await hostile_bot.client.get(
        "/api/v1/configurations", headers={**ADMIN, "X-Big": "a" * 100_000}
    )
    assert 400 <= response.status < 500
    _no_errors_logged(caplog)


@pytest.mark.parametrize("path", ["/api/v1/configurations", "/api/messages"])
async def test_a_header_that_is_not_utf8_is_a_400(
    hostile_bot: Bot, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    # raw bytes: an HTTP client library would not send these
    port = hostile_bot.client.server.port
    for raw in (b"Bearer \xff\xfe", b"Bearer \xed\xa0\x80"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            b"Authorization: " + raw + b"\r\n\r\n{}"
        )
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        assert status_line.split()[1] == b"400", (raw, status_line)
    _no_errors_logged(caplog)


async def test_a_value_longer_than_its_column_is_a_400_naming_the_input(
    hostile_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    for data, field in (
        ({"ANI": "+49 30 1234567", "Skill Name": "s" * 500}, "data.Skill Name"),
        ({"ANI": "1" * 400}, "data"),
    ):
        status, answer = await hostile_bot.event({**started(ANNA_AGENT), "data": data})
        assert status == 400 and answer["field"] == field, answer
    _no_errors_logged(caplog)
