"""No secret in any log line or response, whatever path a request takes.

The service runs with known secret values (API keys, admin key, app password, the key that
encrypts secrets at rest, CRM client secrets given as literals through the admin API), and
a test drives every path: wrong and right keys, a forged Bot Framework token, events, a
workflow that fails against an unreachable CRM, a CRM refusing its credentials, the admin
read, list, export and test of configurations. Every log record at DEBUG (as the code wrote
it, before the redaction filter), every JSON log line and every response body is searched
for every secret. The JSON lines must parse and carry the interaction id where one is in
play."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api.admin import configuration_store
from bot.api.messages import auth_configuration
from bot.app import create_app
from bot.config_cli import export_all
from bot.observability.logs import JsonFormatter, RedactingFilter
from tests.bot.activities import ANNA_AGENT, card_action, install, message
from tests.bot.cardtools import pin_targets
from tests.bot.conftest import started
from tests.bot.jwt_keys import APP_ID, KeyPair, LocalConnections, serve_keys
from tests.crm.sim_salesforce import SalesforceSim

from .conftest import make_settings

PLATFORM_KEY = "plat-7d3e91c5a8f04b2e"
ADMIN_KEY = "admn-0b8f22aa61c94d07"
APP_PASSWORD = "apppw-9c1e7f3b5d2a4e68"
SECRET_KEY = "fernet-passphrase-4a6b8c0d2e"
SF_SECRET = "sfsec-2e9d4c7a1b3f5e60"
DEAD_SECRET = "deadsec-61f0aa9b3c7d2e41"
WRONG_SECRET = "wrongsec-83c5d1e7f9a2b4c6"
OUTBOUND_TOKEN = "outbound-test-token"  # what the local token provider mints for the connector
SECRETS = (
    PLATFORM_KEY,
    ADMIN_KEY,
    APP_PASSWORD,
    SECRET_KEY,
    SF_SECRET,
    DEAD_SECRET,
    WRONG_SECRET,
    OUTBOUND_TOKEN,
)
CONFIGS = "/api/v1/configurations"
EVENTS = "/api/v1/interactions/events"


class Recorder:
    """The client of the test: keeps every response body."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.bodies: list[str] = []

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        response = await self.client.request(method, path, json=body, headers=sent)
        text = await response.text()
        self.bodies.append(text)
        return response.status, (json.loads(text) if text else None)


class RawRecords(logging.Handler):
    """Every record as the code wrote it: runs before the redaction filter, which rewrites
    records in place for the handlers after it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@dataclass
class Logs:
    raw: RawRecords
    json: io.StringIO


@pytest.fixture
def logs() -> Iterator[Logs]:
    """Raw records, then the production pipeline (redaction filter, JSON formatter), on the
    root logger at DEBUG."""
    raw = RawRecords()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.handlers.insert(0, handler)
    root.handlers.insert(0, raw)
    root.setLevel(logging.DEBUG)
    try:
        yield Logs(raw, stream)
    finally:
        root.removeHandler(raw)
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def keys(aiohttp_server, monkeypatch) -> KeyPair:  # type: ignore[no-untyped-def]
    return await serve_keys(aiohttp_server, monkeypatch)


@pytest.fixture
async def salesforce_url(aiohttp_server) -> str:  # type: ignore[no-untyped-def]
    sim = SalesforceSim(client_secret=SF_SECRET)
    return str((await aiohttp_server(sim.app)).make_url("")).rstrip("/")


def _dead_url() -> str:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _salesforce(name: str, url: str, secret: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "salesforce",
        "settings": {"login_url": url, "client_id": "sim-client-id"},
        "secrets": {"client_secret": secret},
    }


async def test_no_secret_reaches_a_log_line_or_a_response(
    connector, service_url, aiohttp_client, tmp_path, sqlite_url, keys, salesforce_url, logs
):
    settings = make_settings(
        tmp_path,
        sqlite_url,
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        app_tenant_id="contoso.onmicrosoft.com",
        validate_service_url=False,
        api_keys=PLATFORM_KEY,
        admin_api_keys=ADMIN_KEY,
        secret_key=SECRET_KEY,
    )
    app = create_app(settings, connections=LocalConnections(auth_configuration(settings)))
    api = Recorder(await aiohttp_client(TestServer(app)))
    bearer = {"Authorization": f"Bearer {keys.token(serviceurl=service_url)}"}

    # wrong keys, each containing a real one, and a platform key on the admin API
    assert (await api.call("POST", EVENTS, started(ANNA_AGENT), key=PLATFORM_KEY + "x"))[0] == 401
    assert (await api.call("GET", CONFIGS, key=PLATFORM_KEY))[0] == 403
    assert (await api.call("GET", CONFIGS, key="x" + ADMIN_KEY))[0] == 401

    # configurations with literal secrets: reachable, unreachable, refusing the secret
    status, sf = await api.call(
        "POST", CONFIGS, _salesforce("SF", salesforce_url, SF_SECRET), key=ADMIN_KEY
    )
    assert status == 201, sf
    status, dead = await api.call(
        "POST", CONFIGS, _salesforce("Gone", _dead_url(), DEAD_SECRET), key=ADMIN_KEY
    )
    assert status == 201, dead
    status, wrong = await api.call(
        "POST", CONFIGS, _salesforce("Wrong", salesforce_url, WRONG_SECRET), key=ADMIN_KEY
    )
    assert status == 201, wrong
    assert (await api.call("GET", CONFIGS, key=ADMIN_KEY))[0] == 200
    for config in (sf, dead, wrong):
        assert (await api.call("GET", f"{CONFIGS}/{config['id']}", key=ADMIN_KEY))[0] == 200
    status, tested = await api.call("POST", f"{CONFIGS}/{sf['id']}/test", key=ADMIN_KEY)
    assert status == 200 and tested["ok"] is True, tested
    assert (await api.call("POST", f"{CONFIGS}/{dead['id']}/test", key=ADMIN_KEY))[0] >= 400
    assert (await api.call("POST", f"{CONFIGS}/{wrong['id']}/test", key=ADMIN_KEY))[0] >= 400
    assert (await api.call("GET", f"{CONFIGS}/{sf['id']}/entities", key=ADMIN_KEY))[0] == 200
    exported = await export_all(configuration_store(app))
    assert "client_secret" in exported or sf["id"] in exported

    # the bot: a forged token, then real traffic with a valid one
    forger = KeyPair()
    forger.kid = keys.kid
    forged = {"Authorization": f"Bearer {forger.token(serviceurl=service_url)}"}
    status, _ = await api.call(
        "POST", "/api/messages", message(service_url, ANNA_AGENT, "whoami"), headers=forged
    )
    assert status == 401
    connector.members[ANNA_AGENT.teams_id] = ANNA_AGENT.member()
    installation = install(service_url, ANNA_AGENT)
    status, _ = await api.call("POST", "/api/messages", installation, headers=bearer)
    assert status in (200, 202)

    # an interaction on the Salesforce configuration, a pin, and workflows
    event = started(ANNA_AGENT, number="+49 30 1234567", configurationId=sf["id"])
    interaction_id = event["interactionId"]
    status, state = await api.call("POST", EVENTS, event, key=PLATFORM_KEY)
    assert status == 202, state
    card = (
        await connector.wait_for(
            lambda calls: [
                c for c in calls if c.method == "POST" and c.card and c.card.get("msteams")
            ]
        )
    )[0].card
    unpin = pin_targets(card, "unpin")
    assert "Anna Schmidt" in unpin
    status, _ = await api.call(
        "POST",
        "/api/messages",
        card_action(service_url, ANNA_AGENT, "unpin", unpin["Anna Schmidt"]),
        headers=bearer,
    )
    assert status == 200
    for config, expected in ((sf, 200), (dead, 502), (wrong, 502)):
        status, workflows = await api.call(
            "GET", f"{CONFIGS}/{config['id']}/workflows", key=ADMIN_KEY
        )
        search = next(
            w["workflowId"]
            for w in workflows["workflows"]
            if w["workflowName"] == "Search by phone number"
        )
        status, body = await api.call(
            "POST",
            "/api/v1/workflows/execute",
            {
                "configurationId": config["id"],
                "workflowId": search,
                "interactionId": interaction_id,
                "payload": {"workflowInput": {"phoneNumber": "+49 30 1234567"}},
            },
            key=PLATFORM_KEY,
        )
        assert status == expected, body

    # nothing anywhere holds a secret
    logged = "\n".join(logs.raw.lines)
    json_text = logs.json.getvalue()
    connector_bodies = [json.dumps(c.body) for c in connector.calls]
    for secret in SECRETS:
        assert secret not in logged, f"{secret} in a log record"
        assert secret not in json_text, f"{secret} in a JSON log line"
        assert not [b for b in api.bodies if secret in b], f"{secret} in a response"
        assert not [b for b in connector_bodies if secret in b], f"{secret} sent to Teams"
        assert secret not in exported
    assert len(logs.raw.lines) > 20  # the paths above did log

    # JSON lines parse; lines about this interaction carry its id (and the configuration's)
    entries = [json.loads(line) for line in json_text.splitlines()]
    about = [
        e for e in entries if e["logger"].startswith("bot.") and event["eventId"] in e["message"]
    ]
    assert about and all(e.get("interaction_id") == interaction_id for e in about)
    failed = [
        e for e in entries if e["message"].startswith("Workflow") and "CRM error" in e["message"]
    ]
    assert {e.get("configuration_id") for e in failed} == {dead["id"], wrong["id"]}
    assert all(e.get("interaction_id") == interaction_id for e in failed)
    installed = [e for e in entries if e["message"].startswith("Installed for Teams user")]
    assert [e.get("activity_id") for e in installed] == [installation["id"]]
