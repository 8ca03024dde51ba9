"""Microsoft (Entra ID) sign-in to the console against a local stand-in of the identity
platform (tests/console/fake_entra.py): authorization code + PKCE, the ID token checked,
admins by app role or group; everything else refused."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from tests.bot.conftest import make_settings

from .fake_entra import CLIENT_ID, CLIENT_SECRET, FakeEntra


@pytest.fixture
async def entra(aiohttp_server) -> FakeEntra:  # type: ignore[no-untyped-def]
    fake = FakeEntra()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


async def _console(aiohttp_client, tmp_path, database_url, entra, **extra) -> TestClient:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path,
        database_url,
        public_url="http://console.test",
        console_oidc_authority=entra.authority,
        console_oidc_client_id=CLIENT_ID,
        console_oidc_client_secret=CLIENT_SECRET,
        **({"console_admin_roles": "CustomerCard.Admin"} | extra),
    )
    return await aiohttp_client(TestServer(create_app(settings)))


async def _confirm(authorize: str) -> str:
    """The provider's page: the link back to the console, as a person follows it."""
    async with aiohttp.ClientSession() as browser:
        page = await (await browser.get(authorize)).text()
    found = re.search(r'href="([^"]+)"', page)
    assert found
    return html.unescape(found.group(1))


async def _sign_in(client: TestClient, *, state: str | None = None) -> aiohttp.ClientResponse:
    """The browser's walk: start, the identity provider, back to the callback."""
    start = await client.get("/admin/oidc/start?next=/admin/audit", allow_redirects=False)
    assert start.status == 303
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [
        "http://console.test/admin/oidc/callback"
    ]
    back = urlsplit(await _confirm(authorize))
    params = parse_qs(back.query)
    if state is not None:
        params["state"] = [state]
    return await client.get(
        back.path, params={k: v[0] for k, v in params.items()}, allow_redirects=False
    )


async def test_an_admin_by_app_role_signs_in(aiohttp_client, tmp_path, database_url, entra):
    client = await _console(aiohttp_client, tmp_path, database_url, entra)
    page = await (await client.get("/admin/sign-in")).text()
    assert "Sign in with Microsoft" in page
    response = await _sign_in(client)
    assert response.status == 200
    assert 'content="0;url=/admin/audit"' in await response.text()
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("cc_console="))
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie
    audit = await client.get("/admin/audit")
    assert audit.status == 200 and "megan@contoso.example" in await audit.text()


async def test_an_admin_by_group(aiohttp_client, tmp_path, database_url, entra):
    entra.user = {"preferred_username": "ops@contoso.example", "groups": ["grp-cc-admins"]}
    client = await _console(
        aiohttp_client,
        tmp_path,
        database_url,
        entra,
        console_admin_roles="",
        console_admin_groups="grp-cc-admins",
    )
    assert (await _sign_in(client)).status == 200
    assert (await client.get("/admin/configurations")).status == 200


async def test_no_role_no_console(aiohttp_client, tmp_path, database_url, entra):
    entra.user = {"preferred_username": "guest@contoso.example", "roles": ["Reader"]}
    client = await _console(aiohttp_client, tmp_path, database_url, entra)
    response = await _sign_in(client)
    assert response.status == 403 and "not a console admin" in await response.text()
    assert (await client.get("/admin/configurations", allow_redirects=False)).status == 303


async def test_forged_state_wrong_nonce_and_a_stolen_code_are_refused(
    aiohttp_client, tmp_path, database_url, entra
):
    client = await _console(aiohttp_client, tmp_path, database_url, entra)
    assert (await _sign_in(client, state="forged")).status == 400
    entra.nonce_override = "another-nonce"
    assert (await _sign_in(client)).status == 400
    entra.nonce_override = None
    # a code injected into another browser's flow: that browser's PKCE verifier does not
    # match the code's challenge, so the identity provider refuses it
    victim = await _console(aiohttp_client, tmp_path / "b", database_url, entra)
    stolen_start = await client.get("/admin/oidc/start", allow_redirects=False)
    stolen = await _confirm(stolen_start.headers["Location"])
    stolen_code = parse_qs(urlsplit(stolen).query)["code"][0]
    victim_start = await victim.get("/admin/oidc/start", allow_redirects=False)
    victim_state = parse_qs(urlsplit(victim_start.headers["Location"]).query)["state"][0]
    response = await victim.get(
        "/admin/oidc/callback",
        params={"code": stolen_code, "state": victim_state},
        allow_redirects=False,
    )
    assert response.status == 400 and entra.refused == ["code_verifier"]
    assert (await victim.get("/admin/configurations", allow_redirects=False)).status == 303


async def test_microsoft_sign_in_is_off_unless_configured(aiohttp_client, tmp_path, database_url):
    client = await aiohttp_client(TestServer(create_app(make_settings(tmp_path, database_url))))
    assert "Sign in with Microsoft" not in await (await client.get("/admin/sign-in")).text()
    assert (await client.get("/admin/oidc/start", allow_redirects=False)).status == 404
