"""Bot Framework token validation on /api/messages, offline with a local RSA key."""

from __future__ import annotations

import jwt
import pytest
from aiohttp.test_utils import TestServer

from bot.api.messages import auth_configuration
from bot.app import create_app

from .activities import ANNA_AGENT, message
from .conftest import Bot, make_settings
from .jwt_keys import APP_ID, BOT_ISSUER, KeyPair, LocalConnections, serve_keys


@pytest.fixture
async def keys(aiohttp_server, monkeypatch) -> KeyPair:  # type: ignore[no-untyped-def]
    return await serve_keys(aiohttp_server, monkeypatch)


@pytest.fixture
async def secured(connector, service_url, aiohttp_client, tmp_path, sqlite_url, keys) -> Bot:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path,
        sqlite_url,
        app_id=APP_ID,
        app_password="secret",
        app_tenant_id="contoso.onmicrosoft.com",
        validate_service_url=False,
    )
    app = create_app(settings, connections=LocalConnections(auth_configuration(settings)))
    client = await aiohttp_client(TestServer(app))
    return Bot(client, connector, service_url)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_valid_token_is_accepted(secured, keys):
    token = keys.token(serviceurl=secured.service_url)
    status, _ = await secured.activity(
        message(secured.service_url, ANNA_AGENT, "whoami"), **_bearer(token)
    )
    assert status in (200, 202)
    call = await secured.connector.wait_for(lambda calls: calls[-1:])
    assert call[0].authorization == "Bearer outbound-test-token"


def _alg_none(keys: KeyPair) -> str:
    return jwt.encode(
        {"iss": BOT_ISSUER, "aud": APP_ID, "exp": 4102444800},
        None,
        algorithm="none",
        headers={"kid": keys.kid},
    )


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda keys: {}, id="missing"),
        pytest.param(lambda keys: _bearer(KeyPair().token()), id="unknown-key"),
        pytest.param(lambda keys: _bearer(_forged(keys)), id="forged-same-kid"),
        pytest.param(lambda keys: _bearer(keys.token(expires_in=-3600)), id="expired"),
        pytest.param(lambda keys: _bearer(_alg_none(keys)), id="alg-none"),
        pytest.param(
            lambda keys: _bearer(keys.token(audience="someone-else")), id="wrong-audience"
        ),
        pytest.param(lambda keys: _bearer(keys.token(kid=None)), id="no-kid"),
        pytest.param(lambda keys: _bearer(keys.token(issuer="https://evil.example")), id="issuer"),
        pytest.param(lambda keys: _bearer("not-a-jwt"), id="garbage"),
        pytest.param(lambda keys: {"Authorization": "Basic abc"}, id="not-bearer"),
    ],
)
async def test_bad_tokens_are_401(secured, keys, make_headers):
    status, body = await secured.activity(
        message(secured.service_url, ANNA_AGENT, "whoami"), **make_headers(keys)
    )
    assert status == 401, body
    assert secured.connector.calls == []


def _forged(keys: KeyPair) -> str:
    """Signed by another key but claiming the real key's id."""
    other = KeyPair()
    other.kid = keys.kid
    return other.token()


async def test_tenant_allow_list(connector, service_url, aiohttp_client, tmp_path, sqlite_url):
    settings = make_settings(tmp_path, sqlite_url, tenant_allowlist="some-other-tenant")
    client = await aiohttp_client(TestServer(create_app(settings)))
    bot = Bot(client, connector, service_url)
    status, body = await bot.activity(message(service_url, ANNA_AGENT, "help"))
    assert status == 403 and body["error"] == "tenant_not_allowed"


async def test_anonymous_mode_accepts_unauthenticated_emulator_traffic(bot):
    status, _ = await bot.activity(message(bot.service_url, ANNA_AGENT, "help"))
    assert status in (200, 202)
