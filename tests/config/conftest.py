"""Fixtures: the real service (``bot.app.create_app``) with the admin and workflow routes,
an ``Api`` helper that keeps every response body (for the "no secret ever" checks), and the
test-only ``flaky`` CRM type."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.api import admin, workflows
from bot.api.openapi import OPENAPI
from bot.app import create_app
from crm.registry import INTEGRATION_TYPES
from tests.bot.conftest import (
    ADMIN_KEY,
    PLATFORM_KEY,
    make_settings,
)

from . import flaky_crm

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
PLATFORM = {"Authorization": f"Bearer {PLATFORM_KEY}"}


def wire(app: web.Application) -> web.Application:
    """Add the admin and workflow routes unless ``create_app`` already does."""
    paths = {e.path for e in app[OPENAPI].endpoints}
    if "/api/v1/configurations" not in paths:
        admin.add_routes(app)
    if "/api/v1/workflows/execute" not in paths:
        workflows.add_routes(app)
    return app


@dataclass
class Api:
    client: TestClient
    bodies: list[str] = field(default_factory=list)

    async def call(
        self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        response = await self.client.request(
            method, path, json=body, headers=headers if headers is not None else ADMIN
        )
        text = await response.text()
        self.bodies.append(text)
        return response.status, (json.loads(text) if text else None)

    async def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.call(method, path, body, headers=ADMIN)

    async def platform(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.call(method, path, body, headers=PLATFORM)

    async def default_config(self) -> dict[str, Any]:
        status, body = await self.admin("GET", "/api/v1/configurations")
        assert status == 200, body
        return next(c for c in body["configurations"] if c["isDefault"])

    async def workflow_id(self, config_id: str, name: str) -> str:
        status, body = await self.admin("GET", f"/api/v1/configurations/{config_id}/workflows")
        assert status == 200, body
        return next(w["workflowId"] for w in body["workflows"] if w["workflowName"] == name)

    def assert_never_sent(self, secret: str) -> None:
        leaks = [body for body in self.bodies if secret in body]
        assert not leaks, f"secret found in a response: {leaks[0][:200]}"


@pytest.fixture
async def make_api(aiohttp_client, tmp_path, database_url):  # type: ignore[no-untyped-def]
    async def make(**overrides: Any) -> Api:
        app = wire(create_app(make_settings(tmp_path, database_url, **overrides)))
        return Api(await aiohttp_client(TestServer(app)))

    return make


@pytest.fixture
async def api(make_api) -> Api:  # type: ignore[no-untyped-def]
    return await make_api()


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
async def flaky_vendor(aiohttp_server) -> AsyncIterator[tuple[flaky_crm.FakeVendor, str]]:  # type: ignore[no-untyped-def]
    """The ``flaky`` integration type registered for this test, and its vendor's URL."""
    vendor = flaky_crm.FakeVendor()
    server = await aiohttp_server(vendor.app())
    INTEGRATION_TYPES[flaky_crm.TYPE] = flaky_crm.MODULE
    try:
        yield vendor, str(server.make_url("")).rstrip("/")
    finally:
        INTEGRATION_TYPES.pop(flaky_crm.TYPE, None)
