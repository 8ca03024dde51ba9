"""The console's rules over HTTP (no browser needed): nothing without a session, the
session cookie's attributes, CSRF on every form, sign-out ends the session for good, the
same validation and audit trail as the admin API, the language by Accept-Language, and
only the package's own static files."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from bot.app import create_app
from bot.console.forms import settings_fields
from bot.console.render import language
from bot.storage.admin_tables import ConsoleSessionRow
from bot.storage.db import create_engine, session_factory
from crm.config import INTEGRATION_TYPES, settings_schema
from tests.bot.conftest import ADMIN_KEY, PLATFORM_KEY, make_settings

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def client(aiohttp_client, tmp_path, database_url) -> TestClient:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(tmp_path, database_url))
    return await aiohttp_client(TestServer(app))


async def _csrf(client: TestClient, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, path
    found = _CSRF.search(await response.text())
    assert found, path
    return found.group(1)


async def _sign_in(client: TestClient, key: str = ADMIN_KEY) -> Any:
    token = await _csrf(client, "/admin/sign-in")
    return await client.post(
        "/admin/sign-in",
        data={"csrf": token, "key": key, "next": "/admin/audit"},
        allow_redirects=False,
    )


async def test_nothing_without_a_session(client):
    for path in ("/admin/configurations", "/admin/memorializations", "/admin/audit"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == f"/admin/sign-in?next={path}"
    response = await client.post("/admin/configurations/new", data={"type": "demo"})
    assert response.status == 401 and "text/html" in response.headers["Content-Type"]


async def test_the_session_cookie_and_sign_out(client):
    response = await _sign_in(client)
    assert response.status == 303 and response.headers["Location"] == "/admin/audit"
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("cc_console="))
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=28800"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http on loopback; https sets it (next test)
    assert (await client.get("/admin/configurations")).status == 200

    token = await _csrf(client, "/admin/configurations")
    response = await client.post("/admin/sign-out", data={"csrf": token}, allow_redirects=False)
    assert response.status == 303
    # the old cookie is worth nothing now, even if a browser kept it
    client.session.cookie_jar.update_cookies({"cc_console": cookie.split(";")[0].split("=", 1)[1]})
    response = await client.get("/admin/configurations", allow_redirects=False)
    assert response.status == 303


async def test_https_sets_secure_cookies(aiohttp_client, tmp_path, database_url):
    app = create_app(make_settings(tmp_path, database_url, public_url="https://cc.example"))
    client = await aiohttp_client(TestServer(app))
    response = await client.get("/admin/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cc_console_login=") and "Secure" in cookie


async def test_wrong_keys_and_forged_sign_in(client):
    assert (await _sign_in(client, "nope")).status == 401
    assert (await _sign_in(client, PLATFORM_KEY)).status == 401, "a platform key is no admin"
    response = await client.post(
        "/admin/sign-in", data={"csrf": "forged", "key": ADMIN_KEY}, allow_redirects=False
    )
    assert response.status == 403
    # no open redirect after sign-in
    token = await _csrf(client, "/admin/sign-in")
    response = await client.post(
        "/admin/sign-in",
        data={"csrf": token, "key": ADMIN_KEY, "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/admin/"


async def test_every_form_needs_the_csrf_token(client):
    await _sign_in(client)
    body = {"type": "demo", "name": "Forged", "settings.latency_ms": "0"}
    response = await client.post("/admin/configurations/new", data=body)
    assert response.status == 403
    token = await _csrf(client, "/admin/configurations/new?type=demo")
    response = await client.post(
        "/admin/configurations/new", data={**body, "csrf": token}, allow_redirects=False
    )
    assert response.status == 303
    listed = await (await client.get("/admin/configurations")).text()
    assert listed.count("Forged") == 1


async def test_an_expired_session_is_refused(client, database_url):
    await _sign_in(client)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                update(ConsoleSessionRow).values(expires_at=datetime.now(UTC) - timedelta(1))
            )
    finally:
        await engine.dispose()
    response = await client.get("/admin/configurations", allow_redirects=False)
    assert response.status == 303


async def test_console_and_api_share_rules_and_audit_trail(client):
    await _sign_in(client)
    token = await _csrf(client, "/admin/configurations/new?type=hubspot")
    form = {"csrf": token, "type": "hubspot", "name": "HubSpot", "settings.account_id": "abc"}
    response = await client.post("/admin/configurations/new", data=form)
    page = await response.text()
    assert response.status == 400
    assert 'id="err-settings.account_id"' in page  # the store's message, next to the field
    form["settings.account_id"] = "4711"
    form["secrets.access_token"] = "pat-secret-value-1"
    response = await client.post("/admin/configurations/new", data=form, allow_redirects=False)
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    assert "pat-secret-value-1" not in page  # write-only
    api = await client.get("/api/v1/audit", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    events = (await api.json())["events"]
    assert events[0]["action"] == "configuration.create"
    assert events[0]["actor"].startswith("console, api key ")
    assert "secrets.access_token" in events[0]["changes"]


async def test_a_form_for_every_crm_type(client):
    await _sign_in(client)
    for integration_type in INTEGRATION_TYPES:
        schema = settings_schema(integration_type)
        response = await client.get(f"/admin/configurations/new?type={integration_type}")
        page = await response.text()
        assert response.status == 200
        for name in schema.model_fields:
            assert f'name="settings.{name}"' in page, (integration_type, name)
        for secret in schema.SECRETS or {}:
            assert f'name="secrets.{secret}" type="password"' in page


def test_settings_fields_follow_the_model():
    fields = {f.name: f for f in settings_fields("salesforce", {})}
    assert fields["client_id"].required and fields["client_id"].widget == "text"
    assert fields["auth"].options == ("client_credentials", "jwt_bearer")
    assert fields["caller_record_types"].widget == "list"
    assert fields["caller_record_types"].default == "Contact, Lead"
    servicenow = {f.name: f for f in settings_fields("servicenow", {})}
    assert servicenow["related_tables"].widget == "json"  # pairs of names


async def test_german_by_the_browser_language(client):
    response = await client.get("/admin/sign-in", headers={"Accept-Language": "de-DE,de;q=0.9"})
    page = await response.text()
    assert '<html lang="de">' in page and "Admin-Schlüssel" in page
    assert language("fr-FR, en;q=0.3, de;q=0.5") == "de"
    assert language("en-GB,de;q=0.8") == "en"


async def test_only_the_package_static_files(client):
    response = await client.get("/admin/static/vendor/adaptivecards-3.0.6.min.js")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/javascript")
    for path in ("/admin/static/../auth.py", "/admin/static/%2e%2e/auth.py", "/admin/static/x.py"):
        assert (await client.get(path)).status == 404


def test_every_text_of_the_pages_is_in_both_languages():
    from pathlib import Path

    from bot.console.locales import de, en

    assert set(en.MESSAGES) == set(de.MESSAGES)
    templates = Path(__file__).resolve().parents[2] / "bot" / "console" / "templates"
    used = {
        key
        for page in templates.glob("*.html")
        for key in re.findall(
            r"""\bt\(["']([a-z_]+)["']\s*[,)]""", page.read_text(encoding="utf-8")
        )
    }
    assert used and used <= set(en.MESSAGES), used - set(en.MESSAGES)


async def test_switching_off_and_deleting_items(client):
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    configs = await (await client.get("/api/v1/configurations", headers=admin)).json()
    config_id = configs["configurations"][0]["id"]
    base = f"/api/v1/configurations/{config_id}"
    workflows = (await (await client.get(f"{base}/workflows", headers=admin)).json())["workflows"]
    workflow_id = workflows[0]["workflowId"]
    await _sign_in(client)
    page = f"/admin/configurations/{config_id}/workflows"
    token = await _csrf(client, page)
    response = await client.post(
        f"{page}/{workflow_id}/status", data={"csrf": token, "status": "inactive"}
    )
    assert response.status == 200 and "Saved." in await response.text()
    read = await (await client.get(f"{base}/workflows/{workflow_id}", headers=admin)).json()
    assert read["status"] == "inactive"
    response = await client.post(f"{page}/{workflow_id}/delete", data={"csrf": token})
    assert response.status == 200 and "Deleted." in await response.text()
    assert (await client.get(f"{base}/workflows/{workflow_id}", headers=admin)).status == 404
    # an unknown item is a page saying so, not JSON
    response = await client.post(f"{page}/{workflow_id}/delete", data={"csrf": token})
    assert response.status == 404 and "text/html" in response.headers["Content-Type"]


async def test_deleting_a_configuration_needs_the_ticked_box(client):
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    await _sign_in(client)
    token = await _csrf(client, "/admin/configurations/new?type=demo")
    response = await client.post(
        "/admin/configurations/new",
        data={"csrf": token, "type": "demo", "name": "Short-lived"},
        allow_redirects=False,
    )
    page = response.headers["Location"].split("?")[0]
    config_id = page.rsplit("/", 1)[-1]
    response = await client.post(f"{page}/delete", data={"csrf": token})
    assert response.status == 200
    assert (await client.get(f"/api/v1/configurations/{config_id}", headers=admin)).status == 200
    response = await client.post(f"{page}/delete", data={"csrf": token, "confirm": "1"})
    assert response.status == 200 and "Deleted." in await response.text()
    assert (await client.get(f"/api/v1/configurations/{config_id}", headers=admin)).status == 404
    events = (await (await client.get("/api/v1/audit", headers=admin)).json())["events"]
    assert events[0]["action"] == "configuration.delete" and events[0]["target"] == config_id


async def test_workflows_and_start_up_steps_as_json(client):
    await _sign_in(client)
    listing = await (await client.get("/admin/configurations")).text()
    config = (
        "/admin/configurations/"
        + re.findall(r'href="/admin/configurations/(cfg-[^"]+)"', listing)[0]
    )
    token = await _csrf(client, config + "/workflows")
    response = await client.post(config + "/workflows", data={"csrf": token, "definition": "{"})
    assert response.status == 400 and "not JSON" in await response.text()
    bad = '{"name": "Cases", "kind": "search", "by": "phone", "recordTypes": ["shoe"]}'
    response = await client.post(config + "/workflows", data={"csrf": token, "definition": bad})
    page = await response.text()
    assert response.status == 400 and "recordTypes" in page and "shoe" in page
    good = bad.replace('"shoe"', '"case"')
    response = await client.post(
        config + "/workflows", data={"csrf": token, "definition": good}, allow_redirects=False
    )
    assert response.status == 303
    workflow = response.headers["Location"].split("?")[0]
    response = await client.post(workflow + "/try", data={"csrf": token, "payload": "[1]"})
    assert response.status == 400 and 'id="err-payload"' in await response.text()

    steps = '[{"step": "search", "by": "phone"}, {"step": "pin_single"}, {"step": "related"}]'
    response = await client.post(config + "/startup/json", data={"csrf": token, "steps": "[{}]"})
    assert response.status == 400 and 'id="err-steps"' in await response.text()
    response = await client.post(config + "/startup/json", data={"csrf": token, "steps": steps})
    page = await response.text()
    assert response.status == 200 and "Saved." in page
    assert page.index("<code>pin_single</code>") < page.index("<code>related</code>")
    response = await client.post(config + "/startup/json", data={"csrf": token, "steps": ""})
    assert "The built-in default runs." in await response.text()
