"""The console's connector pages over HTTP (no browser needed): nothing without a session,
CSRF on each of their forms, the same rules and audit trail as the admin API (through
ConnectorStore), secrets write-only, every agent row's problem at its input, and the
inbound URL to paste on the platform's side."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from tests.bot.conftest import ADMIN_KEY, make_settings

from .test_sessions import _csrf

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token-console-0001"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
async def client(aiohttp_client, tmp_path, database_url) -> TestClient:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url, public_url="http://cc.contoso.example")
    return await aiohttp_client(TestServer(create_app(settings)))


async def _sign_in(client: TestClient) -> str:
    token = await _csrf(client, "/admin/sign-in")
    response = await client.post(
        "/admin/sign-in", data={"csrf": token, "key": ADMIN_KEY}, allow_redirects=False
    )
    assert response.status == 303
    return await _csrf(client, "/admin/connectors/twilio")


async def _api(client: TestClient, path: str) -> tuple[int, Any]:
    response = await client.get(path, headers=ADMIN)
    return response.status, await response.json()


def _error(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="err-{re.escape(field)}">([^<]*)</p>', page)
    assert found, f"no error at {field}"
    return found.group(1)


async def test_connector_forms_need_a_session_and_the_csrf_token(client, aiohttp_client):
    for path in ("/admin/connectors", "/admin/connectors/twilio"):
        response = await client.get(path, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (
            303,
            f"/admin/sign-in?next={path}",
        )
    form = {"settings.account_sid": ACCOUNT, "secrets.auth_token": TOKEN}
    for path in ("", "/agents", "/status", "/delete"):
        response = await client.post(f"/admin/connectors/twilio{path}", data=form)
        assert response.status == 401, path
    token = await _sign_in(client)
    other = await aiohttp_client(client.server)  # another browser, signed in on its own
    others_token = await _sign_in(other)
    assert others_token != token
    for forged in ({}, {"csrf": "forged"}, {"csrf": others_token}):
        for path in ("", "/agents", "/status", "/delete"):
            response = await client.post(f"/admin/connectors/twilio{path}", data={**form, **forged})
            assert response.status == 403, path
    assert (await _api(client, "/api/v1/connectors"))[1]["connectors"] == []
    response = await client.post(
        "/admin/connectors/twilio", data={**form, "csrf": token}, allow_redirects=False
    )
    assert response.status == 303
    assert (await _api(client, "/api/v1/connectors/twilio"))[0] == 200


async def test_settings_secrets_state_and_the_inbound_url(client):
    token = await _sign_in(client)
    listed = await (await client.get("/admin/connectors")).text()
    for label in ("Amazon Connect", "Genesys Cloud", "Twilio Flex / TaskRouter", "NICE CXone"):
        assert label in listed
    assert listed.count("not set up") == 4
    bad = {"csrf": token, "settings.account_sid": "AC12", "settings.workspace_sid": "WSnope"}
    response = await client.post("/admin/connectors/twilio", data=bad)
    page = await response.text()
    assert response.status == 400
    assert "pattern" in _error(page, "settings.account_sid")
    assert "pattern" in _error(page, "settings.workspace_sid")  # every problem at once
    assert "required" in _error(page, "secrets.auth_token")
    assert 'value="AC12"' in page  # what was typed stays
    fixed = {"csrf": token, "settings.account_sid": ACCOUNT}
    response = await client.post(
        "/admin/connectors/twilio",
        data={**fixed, "secrets.auth_token": TOKEN, "remove.auth_token": "1"},
    )
    assert response.status == 400  # removing the required auth token
    assert "required" in _error(await response.text(), "secrets.auth_token")
    response = await client.post(
        "/admin/connectors/twilio",
        data={**fixed, "secrets.auth_token": TOKEN},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/admin/connectors/twilio?done=saved"
    page = await (await client.get("/admin/connectors/twilio")).text()
    assert TOKEN not in page and "set (literal)" in page
    assert "http://cc.contoso.example/api/v1/connectors/twilio/taskrouter" in page
    # saving again without the secret keeps it; disable; the API sees the same connector
    await client.post("/admin/connectors/twilio", data=fixed)
    await client.post("/admin/connectors/twilio/status", data={"csrf": token, "status": ""})
    status, body = await _api(client, "/api/v1/connectors/twilio")
    assert (body["status"], body["secrets"]["auth_token"]["set"]) == ("inactive", True)
    listed = await (await client.get("/admin/connectors")).text()
    assert listed.count("not set up") == 3 and "inactive" in listed
    # Amazon Connect with OAuth: the events endpoint and the token endpoint to paste
    arn = "arn:aws:connect:eu-central-1:111122223333:instance/0a1b2c3d"
    connect = {"csrf": token, "settings.instance_arn": arn, "settings.auth": "oauth"}
    response = await client.post("/admin/connectors/amazon-connect", data=connect)
    page = await response.text()
    assert "required" in _error(page, "secrets.client_id")  # by auth: oauth
    assert "required" in _error(page, "secrets.client_secret")
    assert 'id="err-secrets.api_key"' not in page
    connect |= {"secrets.client_id": "eventbridge", "secrets.client_secret": "s3cret-0001"}
    await client.post("/admin/connectors/amazon-connect", data=connect)
    page = await (await client.get("/admin/connectors/amazon-connect")).text()
    assert "http://cc.contoso.example/api/v1/connectors/amazon-connect/events" in page
    assert "http://cc.contoso.example/api/v1/connectors/amazon-connect/oauth/token" in page


async def test_the_agent_table_as_rows_with_each_error_at_its_input(client):
    token = await _sign_in(client)
    genesys = {"csrf": token, "secrets.client_id": "gc-client", "secrets.client_secret": "gc-s"}
    assert (await client.post("/admin/connectors/genesys-cloud", data=genesys)).status == 200
    base = "/admin/connectors/genesys-cloud/agents"
    rows = [
        ("agent_id", "u-1"),
        ("agent_upn", "alex@contoso.example"),
        ("agent_id", "u-2"),
        ("agent_upn", "not an address"),
        ("agent_id", "u-1"),
        ("agent_upn", "sam@contoso.example"),
        ("agent_id", ""),
        ("agent_upn", "kim@contoso.example"),
        ("agent_id", ""),
        ("agent_upn", ""),
    ]
    response = await client.post(base, data=[("csrf", token), *rows])
    page = await response.text()
    assert response.status == 400
    assert "email/UPN" in _error(page, "agents.1.upn")
    assert "listed twice" in _error(page, "agents.2.id")
    assert "agent id" in _error(page, "agents.3.id")
    assert (await _api(client, "/api/v1/connectors/genesys-cloud"))[1]["agents"] == {}
    # remove the bad rows (shown, not saved), add one, fill it, save
    for op in ("remove:3", "remove:2", "add"):
        response = await client.post(base, data=[("csrf", token), *rows, ("op", op)])
        assert response.status == 200 and "Not saved yet" in await response.text()
        assert (await _api(client, "/api/v1/connectors/genesys-cloud"))[1]["agents"] == {}
    kept = rows[:2] + [("agent_id", "u-2"), ("agent_upn", "6f1c7f3e-4b5a-4c3d-9e8f-0123456789ab")]
    response = await client.post(base, data=[("csrf", token), *kept], allow_redirects=False)
    assert response.status == 303
    table = (await _api(client, "/api/v1/connectors/genesys-cloud"))[1]["agents"]
    assert table == {"u-1": "alex@contoso.example", "u-2": "6f1c7f3e-4b5a-4c3d-9e8f-0123456789ab"}
    page = await (await client.get("/admin/connectors/genesys-cloud")).text()
    assert page.count('name="agent_id"') == 3  # the two rows and an empty one to add
    assert "connector.agents" in page and "connector.create" in page  # its audit rows
    assert "api key" in page or "console" in page
    # delete only with the box ticked
    await client.post("/admin/connectors/genesys-cloud/delete", data={"csrf": token})
    assert (await _api(client, "/api/v1/connectors/genesys-cloud"))[0] == 200
    await client.post(
        "/admin/connectors/genesys-cloud/delete", data={"csrf": token, "confirm": "1"}
    )
    assert (await _api(client, "/api/v1/connectors/genesys-cloud"))[0] == 404


async def test_german_and_an_unknown_platform(client):
    await _sign_in(client)
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = await (await client.get("/admin/connectors/nice-cxone", headers=german)).text()
    assert "Plattform-Connectoren" in page and "Eingangs-URL" in page
    assert re.search(
        r"/api/v1/connectors/nice-cxone/configuration/[^/{]+/workflow/\{workflowId\}", page
    )
    response = await client.get("/admin/connectors/skype")
    assert response.status == 404 and "twilio" in await response.text()
