"""The start-up steps' structured form over HTTP: a form per step from its kind's model,
moved, added and removed before saving, every problem at its field, the store's order rule
at its step, CSRF and session on each of its forms, saved as the admin API reads it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from tests.bot.conftest import ADMIN_KEY, make_settings

from .test_connector_pages import _error
from .test_sessions import _csrf

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
async def client(aiohttp_client, tmp_path, database_url) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(TestServer(create_app(make_settings(tmp_path, database_url))))


async def _configured(client: TestClient) -> tuple[str, str]:
    """Signed in, with a demo configuration: (its startup page, the CSRF token)."""
    token = await _csrf(client, "/admin/sign-in")
    await client.post("/admin/sign-in", data={"csrf": token, "key": ADMIN_KEY})
    token = await _csrf(client, "/admin/configurations/new?type=demo")
    form = {"csrf": token, "type": "demo", "name": "Demo", "settings.latency_ms": "0"}
    response = await client.post("/admin/configurations/new", data=form, allow_redirects=False)
    config = response.headers["Location"].split("?")[0]
    return config + "/startup", token


def _kinds(page: str) -> list[str]:
    return re.findall(r'name="kind" value="([a-z_]+)"', page)


async def _api_steps(client: TestClient, startup: str) -> Any:
    config_id = startup.split("/")[3]
    response = await client.get(f"/api/v1/configurations/{config_id}", headers=ADMIN)
    return (await response.json())["startup"]


async def test_steps_as_a_list_of_forms(client):
    startup, token = await _configured(client)
    page = await (await client.get(startup)).text()
    assert _kinds(page) == ["search", "pin_single"]  # the built-in default, as rows
    assert 'name="s.0.by"' in page and 'name="s.0.recordTypes"' in page
    assert "The built-in default runs." in page

    rows = [("csrf", token), ("kind", "search"), ("s.0.by", "phone"), ("kind", "pin_single")]
    # add a step (shown, not saved), then move it up and back down, remove one
    response = await client.post(startup, data=[*rows, ("op", "add"), ("add_kind", "related")])
    assert _kinds(await response.text()) == ["search", "pin_single", "related"]
    assert "Not saved yet" in await response.text()
    rows += [("kind", "related"), ("s.2.limit", "7")]
    response = await client.post(startup, data=[*rows, ("op", "up:2")])
    page = await response.text()
    assert _kinds(page) == ["search", "related", "pin_single"]
    assert 'id="s.1.limit" name="s.1.limit" value="7"' in page  # the value moves with it
    response = await client.post(startup, data=[*rows, ("op", "down:0")])
    assert _kinds(await response.text()) == ["pin_single", "search", "related"]
    response = await client.post(startup, data=[*rows, ("op", "remove:1")])
    assert _kinds(await response.text()) == ["search", "related"]
    assert await _api_steps(client, startup) is None  # nothing saved yet

    # every problem at its field, at once
    bad = [
        ("csrf", token),
        ("kind", "search"),
        ("s.0.limit", "500"),
        ("kind", "create_if_none"),
        ("s.1.recordType", ""),
        ("s.1.fields", "no equals sign"),
    ]
    response = await client.post(startup, data=bad)
    page = await response.text()
    assert response.status == 400
    assert "100" in _error(page, "s.0.limit")
    assert "required" in _error(page, "s.1.recordType").lower()
    assert _error(page, "s.1.fields")
    assert 'value="500"' in page  # what was typed stays
    # the order rule (pin_single acts on a search result) at its step
    response = await client.post(startup, data=[("csrf", token), ("kind", "pin_single")])
    assert "search" in _error(await response.text(), "s.0")

    good = [
        ("csrf", token),
        ("kind", "search"),
        ("s.0.by", "phone"),
        ("s.0.recordTypes", "contact, account"),
        ("kind", "create_if_none"),
        ("s.1.recordType", "contact"),
        ("s.1.fields", "phone = {ANI}\nlast_name = Caller {ANI}"),
        ("kind", "cache"),
    ]
    response = await client.post(startup, data=good, allow_redirects=False)
    assert response.status == 303
    assert await _api_steps(client, startup) == [
        {"step": "search", "by": "phone", "recordTypes": ["contact", "account"], "limit": 25},
        {
            "step": "create_if_none",
            "recordType": "contact",
            "fields": {"phone": "{ANI}", "last_name": "Caller {ANI}"},
        },
        {"step": "cache"},
    ]
    page = await (await client.get(startup)).text()
    assert "phone = {ANI}\nlast_name = Caller {ANI}</textarea>" in page
    assert 'value="contact, account"' in page
    # back to the built-in default
    await client.post(startup, data={"csrf": token, "op": "default"})
    assert await _api_steps(client, startup) is None


async def test_the_step_forms_need_a_session_and_the_csrf_token(client):
    startup, token = await _configured(client)
    for path in (startup, startup + "/json"):
        response = await client.post(path, data={"kind": "cache", "steps": "[]"})
        assert response.status == 403, path
        response = await client.post(path, data={"csrf": "forged", "op": "default"})
        assert response.status == 403, path
    client.session.cookie_jar.clear()
    response = await client.post(startup, data={"csrf": token, "kind": "cache"})
    assert response.status == 401
    response = await client.get(startup, allow_redirects=False)
    assert response.status == 303
