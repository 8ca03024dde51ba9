"""The audit trail: every change through the admin API is one row naming the key (by
fingerprint), the action and the attributes changed, never a secret value."""

from __future__ import annotations

import hashlib

from tests.bot.conftest import ADMIN_KEY

from .conftest import PLATFORM

CONFIGS = "/api/v1/configurations"
TOKEN = "pat-eu1-aaaaaaaa-2222-3333-4444-555555555555"


async def test_admin_api_changes_are_in_the_audit_trail(api):
    status, created = await api.admin(
        "POST",
        CONFIGS,
        {
            "name": "HubSpot EU",
            "type": "hubspot",
            "settings": {"account_id": "4711"},
            "secrets": {"access_token": TOKEN},
        },
    )
    assert status == 201, created
    config_id = created["id"]
    await api.admin("PATCH", f"{CONFIGS}/{config_id}", {"secrets": {"access_token": TOKEN + "x"}})
    await api.admin("POST", f"{CONFIGS}/{config_id}/deactivate")
    await api.admin("DELETE", f"{CONFIGS}/{config_id}")

    status, body = await api.admin("GET", f"/api/v1/audit?configurationId={config_id}")
    assert status == 200, body
    events = body["events"]
    assert [e["action"] for e in events] == [
        "configuration.delete",
        "configuration.deactivate",
        "configuration.update",
        "configuration.create",
    ]
    actor = "api key " + hashlib.sha256(ADMIN_KEY.encode()).hexdigest()[:8]
    assert {e["actor"] for e in events} == {actor}
    assert events[2]["changes"] == ["secrets.access_token"]
    assert events[3]["changes"] == ["secrets.access_token", "settings.account_id"]
    assert events[1]["changes"] == ["status"]
    api.assert_never_sent(TOKEN)


async def test_mapping_changes_and_paging(api):
    config = await api.default_config()
    base = f"{CONFIGS}/{config['id']}/dynamic-data-mappings"
    mapping = {"name": "Card", "recordTypes": [{"recordType": "contact", "fields": ["email"]}]}
    status, created = await api.admin("POST", base, mapping)
    assert status == 201, created
    await api.admin("POST", f"{base}/{created['id']}/deactivate")
    status, page = await api.admin("GET", "/api/v1/audit?limit=1")
    assert status == 200 and [e["action"] for e in page["events"]] == ["dynamic-mapping.deactivate"]
    assert page["events"][0]["target"] == created["id"]
    assert page["events"][0]["changes"] == ["status"]
    status, rest = await api.admin("GET", f"/api/v1/audit?beforeId={page['nextBeforeId']}")
    assert rest["events"][0]["action"] == "dynamic-mapping.create"


async def test_audit_needs_an_admin_key_and_valid_paging(api):
    status, _ = await api.call("GET", "/api/v1/audit", headers=PLATFORM)
    assert status == 403
    status, body = await api.admin("GET", "/api/v1/audit?limit=0")
    assert status == 400 and body["field"] == "limit"


async def test_a_retried_crm_write_is_in_the_audit_trail(api, database_url):
    from bot.memorialization import leases
    from bot.storage.db import create_engine, session_factory
    from tests.memorialization.conftest import make_snapshot
    from tests.memorialization.helpers import add_jobs

    engine = create_engine(database_url)
    try:
        sessions = session_factory(engine)
        await add_jobs(sessions, make_snapshot("ix-audit"))
        [job] = await leases.claim(sessions, "w", limit=1, lease_seconds=30)
        await leases.fail(sessions, job, "w", error_code="crm_rejected", error="refused")
    finally:
        await engine.dispose()
    status, body = await api.admin("POST", f"/api/v1/memorializations/{job.id}/retry")
    assert status == 200, body
    status, page = await api.admin("GET", "/api/v1/audit?limit=1")
    [event] = page["events"]
    assert event["action"] == "memorialization.retry" and event["target"] == str(job.id)
    assert event["actor"] == "api key " + hashlib.sha256(ADMIN_KEY.encode()).hexdigest()[:8]
