"""Connectors as an admin sets them up: the admin API (validation naming the field,
write-only secrets, the agent table), ``customer-card config apply`` with a
``connectors:`` section (idempotent, dry run, prune, export) and the OpenAPI document."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.config_cli import add_commands, run
from bot.settings import Settings
from tests.bot.conftest import ADMIN_KEY, AUTH, make_settings

from .harness import Stack

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token-f00d-0001"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def test_admin_api_validates_and_keeps_secrets_write_only(stack: Stack) -> None:
    status, body = await stack.admin("PUT", "/api/v1/connectors/skype", {})
    assert (status, body["error"]) == (404, "unknown_platform")
    status, body = await stack.admin(
        "PUT", "/api/v1/connectors/twilio", {"settings": {"account_sid": ACCOUNT}}
    )
    assert (status, body["field"]) == (400, "secrets.auth_token")
    status, body = await stack.admin(
        "PUT",
        "/api/v1/connectors/twilio",
        {"settings": {"account_sid": ACCOUNT, "colour": "red"}, "secrets": {"auth_token": TOKEN}},
    )
    assert (status, body["field"]) == (400, "settings.colour")
    assert "account_sid" in body["message"]
    status, body = await stack.admin(
        "PUT",
        "/api/v1/connectors/twilio",
        {"settings": {"account_sid": ACCOUNT}, "secrets": {"auth_token": TOKEN, "api_key": "x"}},
    )
    assert (status, body["field"]) == (400, "secrets.api_key")
    status, body = await stack.admin(
        "PUT",
        "/api/v1/connectors/twilio",
        {"settings": {"account_sid": ACCOUNT}, "secrets": {"auth_token": TOKEN}},
    )
    assert status == 201 and TOKEN not in str(body)
    assert body["secrets"]["auth_token"]["set"] is True
    # PUT again without secrets keeps them; the agent table is replaced on its own
    status, body = await stack.admin(
        "PUT", "/api/v1/connectors/twilio", {"settings": {"account_sid": ACCOUNT}}
    )
    assert status == 200 and body["secrets"]["auth_token"]["set"] is True
    status, body = await stack.admin(
        "PUT", "/api/v1/connectors/twilio/agents", {"agents": {"WK1": "alex@contoso.example"}}
    )
    assert status == 200 and body["agents"] == {"WK1": "alex@contoso.example"}
    status, listed = await stack.admin("GET", "/api/v1/connectors")
    assert [c["platform"] for c in listed["connectors"]] == ["twilio"]
    response = await stack.bot.client.get("/api/v1/connectors", headers=AUTH)  # platform key
    assert response.status == 403
    status, _ = await stack.admin("DELETE", "/api/v1/connectors/twilio")
    assert status == 204
    status, body = await stack.admin("GET", "/api/v1/connectors/twilio")
    assert (status, body["error"]) == (404, "unknown_connector")


async def test_every_connector_change_is_one_audit_row_without_values(stack: Stack) -> None:
    body = {"settings": {"account_sid": ACCOUNT}, "secrets": {"auth_token": TOKEN}}
    assert (await stack.admin("PUT", "/api/v1/connectors/twilio", body))[0] == 201
    status, answer = await stack.admin(
        "PUT", "/api/v1/connectors/twilio/agents", {"agents": {"WK1": "not an address"}}
    )
    assert (status, answer["field"]) == (400, "agents.WK1")
    table = {"WK1": "alex@contoso.example", "WK2": "6f1c7f3e-4b5a-4c3d-9e8f-0123456789ab"}
    assert (await stack.admin("PUT", "/api/v1/connectors/twilio/agents", {"agents": table}))[
        0
    ] == 200
    inactive = {"status": "inactive", "settings": {"account_sid": ACCOUNT}}
    assert (await stack.admin("PUT", "/api/v1/connectors/twilio", inactive))[0] == 200
    assert (await stack.admin("DELETE", "/api/v1/connectors/twilio"))[0] == 204
    status, trail = await stack.admin("GET", "/api/v1/audit")
    rows = [e for e in trail["events"] if e["action"].startswith("connector.")]
    assert [(e["action"], e["target"]) for e in rows] == [
        ("connector.delete", "twilio"),
        ("connector.update", "twilio"),
        ("connector.agents", "twilio"),
        ("connector.create", "twilio"),
    ]
    assert rows[3]["changes"] == ["secrets.auth_token", "settings.account_sid", "status"]
    assert rows[2]["changes"] == ["agents.WK1", "agents.WK2"]
    assert rows[1]["changes"] == ["status"]  # the secret kept is no change
    assert rows[0]["actor"].startswith("api key ")
    assert TOKEN not in str(trail) and "alex@contoso.example" not in str(trail)


async def test_openapi_lists_the_connector_endpoints(stack: Stack) -> None:
    response = await stack.bot.client.get("/api/v1/openapi.json", headers=AUTH)
    paths = (await response.json())["paths"]
    for path in (
        "/api/v1/connectors",
        "/api/v1/connectors/{platform}",
        "/api/v1/connectors/{platform}/agents",
        "/api/v1/connectors/twilio/taskrouter",
        "/api/v1/connectors/amazon-connect/events",
        "/api/v1/connectors/amazon-connect/oauth/token",
        "/api/v1/connectors/nice-cxone/configuration/{configurationId}/workflow/{workflowId}",
    ):
        assert path in paths, path


def _cli(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    parser = argparse.ArgumentParser(prog="customer-card")
    add_commands(parser.add_subparsers(dest="command", required=True))
    code = run(parser.parse_args(list(argv)), settings)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_config_apply_sets_up_connectors(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}")
    monkeypatch.setenv("TEST_TWILIO_TOKEN", TOKEN)
    document = {
        "connectors": [
            {
                "platform": "twilio",
                "settings": {"account_sid": ACCOUNT},
                "secrets": {"auth_token": "env:TEST_TWILIO_TOKEN"},
                "agents": {"WK0123456789abcdef0123456789abcdef": "alex.agent@contoso.example"},
            },
            {"platform": "nice-cxone", "secrets": {"api_key": "cxone-literal-0001"}},
        ]
    }
    path = tmp_path / "connectors.yaml"
    path.write_text(yaml.safe_dump(document))
    out = _cli(settings, capsys, "config", "apply", str(path), "--dry-run")
    assert "+ connector twilio" in out and "dry run" in out
    out = _cli(settings, capsys, "config", "apply", str(path))
    assert "+ connector twilio" in out and "+ connector nice-cxone" in out
    assert _cli(settings, capsys, "config", "apply", str(path)).strip() == "No changes."
    document["connectors"][0]["status"] = "inactive"
    path.write_text(yaml.safe_dump(document))
    assert "~ connector twilio: status" in _cli(settings, capsys, "config", "apply", str(path))
    exported = yaml.safe_load(_cli(settings, capsys, "config", "export").split("\n", 2)[2])
    twilio = next(c for c in exported["connectors"] if c["platform"] == "twilio")
    assert twilio["secrets"] == {"auth_token": "env:TEST_TWILIO_TOKEN"}
    assert "cxone-literal-0001" not in str(exported)
    document["connectors"] = document["connectors"][:1]
    path.write_text(yaml.safe_dump(document))
    assert "- connector nice-cxone" in _cli(
        settings, capsys, "config", "apply", str(path), "--prune"
    )


async def test_a_connector_applied_from_a_file_takes_signed_callbacks(
    tmp_path: Path, aiohttp_client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}"
    settings = make_settings(tmp_path, url)
    monkeypatch.setenv("TEST_TWILIO_TOKEN", TOKEN)
    path = tmp_path / "connectors.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "connectors": [
                    {
                        "platform": "twilio",
                        "settings": {"account_sid": ACCOUNT},
                        "secrets": {"auth_token": "env:TEST_TWILIO_TOKEN"},
                    }
                ]
            }
        )
    )
    parser = argparse.ArgumentParser(prog="customer-card")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["config", "apply", str(path)])
    assert await asyncio.to_thread(run, args, settings) == 0  # the CLI runs its own loop
    client = await aiohttp_client(TestServer(create_app(settings)))
    fields = {"AccountSid": ACCOUNT, "EventType": "worker.activity.update", "Sid": "EV1"}
    signature = RequestValidator(TOKEN).compute_signature(
        str(client.make_url("/api/v1/connectors/twilio/taskrouter")), fields
    )
    response = await client.post(
        "/api/v1/connectors/twilio/taskrouter",
        data=urlencode(fields),
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status == 200, await response.text()
