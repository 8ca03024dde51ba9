"""Bot Framework keys when Microsoft's key endpoint misbehaves (bot/bot_keys.py): the
keys are fetched once and kept; a failed or hanging fetch is bounded, remembered for a
short back-off (no fetch per request) and every token is refused with 401 meanwhile."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from microsoft_agents.hosting.core.authorization import _entra_issuers
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    JwtTokenValidator,
)

from bot import bot_keys
from bot.api.messages import auth_configuration
from bot.app import create_app

from .activities import ANNA_AGENT, message
from .conftest import Bot, make_settings
from .jwt_keys import APP_ID, BOT_ISSUER, KeyPair, LocalConnections


class KeyEndpoint:
    """A JWKS endpoint on loopback that serves, fails (503) or hangs, and counts calls."""

    def __init__(self, pair: KeyPair) -> None:
        self.pair, self.mode, self.calls = pair, "serve", 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/keys", self.keys)
        return app

    async def keys(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.mode == "fail":
            return web.Response(status=503)
        if self.mode == "hang":
            await asyncio.sleep(30)
        return web.json_response({"keys": [self.pair.jwk()]})


@pytest.fixture
async def endpoint(aiohttp_server, monkeypatch) -> KeyEndpoint:  # type: ignore[no-untyped-def]
    keys = KeyEndpoint(KeyPair())
    server = await aiohttp_server(keys.app())
    monkeypatch.setitem(
        _entra_issuers.BOTFRAMEWORK_JWKS_URIS, BOT_ISSUER, str(server.make_url("/keys"))
    )
    return keys


@pytest.fixture
async def secured(connector, service_url, aiohttp_client, tmp_path, sqlite_url, endpoint) -> Bot:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path, sqlite_url, app_id=APP_ID, app_password="secret", validate_service_url=False
    )
    app = create_app(settings, connections=LocalConnections(auth_configuration(settings)))
    bot_keys.install(bot_keys.BotFrameworkKeys(timeout=0.5, backoff=30))
    return Bot(await aiohttp_client(TestServer(app)), connector, service_url)


async def _post(bot: Bot, endpoint: KeyEndpoint) -> tuple[int, float]:
    token = endpoint.pair.token(serviceurl=bot.service_url)
    began = time.monotonic()
    status, _ = await bot.activity(
        message(bot.service_url, ANNA_AGENT, "whoami"), Authorization=f"Bearer {token}"
    )
    return status, time.monotonic() - began


def test_the_sdk_validator_uses_our_keys(tmp_path: Any) -> None:
    create_app(make_settings(tmp_path, "sqlite+aiosqlite:///:memory:"))
    assert isinstance(JwtTokenValidator._jwk_client_manager, bot_keys.BotFrameworkKeys)


async def test_keys_are_fetched_once(secured: Bot, endpoint: KeyEndpoint) -> None:
    for _ in range(3):
        status, _ = await _post(secured, endpoint)
        assert status in (200, 202)
    assert endpoint.calls == 1


async def test_a_failing_endpoint_is_not_asked_per_request_and_tokens_get_401(
    secured: Bot, endpoint: KeyEndpoint
) -> None:
    endpoint.mode = "fail"
    statuses = [(await _post(secured, endpoint))[0] for _ in range(4)]
    assert statuses == [401] * 4
    assert endpoint.calls == 1  # the failure is remembered for the back-off


async def test_a_hanging_endpoint_holds_a_request_for_the_bound_only(
    secured: Bot, endpoint: KeyEndpoint
) -> None:
    endpoint.mode = "hang"
    first = await _post(secured, endpoint)
    second = await _post(secured, endpoint)
    assert first[0] == second[0] == 401
    assert first[1] < 5  # the bound (0.5 s here), not the SDK's 30 s
    assert second[1] < 0.5  # remembered: no second wait
    assert endpoint.calls == 1


async def test_an_unknown_key_id_does_not_fetch_per_request(
    secured: Bot, endpoint: KeyEndpoint
) -> None:
    status, _ = await _post(secured, endpoint)
    assert status in (200, 202)
    stranger = KeyPair()  # signs with a key id the endpoint does not list
    for _ in range(3):
        token = stranger.token(serviceurl=secured.service_url)
        status, _ = await secured.activity(
            message(secured.service_url, ANNA_AGENT, "whoami"), Authorization=f"Bearer {token}"
        )
        assert status == 401
    assert endpoint.calls == 1
