"""The admin API: configurations end to end, their validation messages, write-only secrets,
scopes, pickers and the OpenAPI document."""

from __future__ import annotations

from sqlalchemy import text

from bot.storage.db import create_engine

from .conftest import PLATFORM

HUBSPOT_TOKEN = "pat-eu1-11111111-2222-3333-4444-555555555555"
CONFIGS = "/api/v1/configurations"


def hubspot(**extra):  # type: ignore[no-untyped-def]
    body = {
        "name": "HubSpot EU",
        "type": "hubspot",
        "settings": {"account_id": "4711", "external_screenpop_domain_hs": "app-eu1.hubspot.com"},
        "secrets": {"access_token": HUBSPOT_TOKEN},
    }
    body.update(extra)
    return body


async def test_admin_endpoints_need_an_admin_key(api):
    status, body = await api.call("GET", CONFIGS, headers={})
    assert status == 401 and body["error"] == "unauthorized"
    status, body = await api.call("GET", CONFIGS, headers=PLATFORM)
    # a valid key without admin rights: 403 saying so (401 stays for unknown keys)
    assert status == 403 and body["error"] == "insufficient_scope", body
    status, body = await api.admin("GET", CONFIGS)
    assert status == 200 and body["totalRecords"] == 1  # the default demo configuration


async def test_create_read_update_deactivate_delete(api, all_logs, database_url):
    status, created = await api.admin("POST", CONFIGS, hubspot(description="Sales"))
    assert status == 201, created
    config_id = created["id"]
    assert created["typeName"] == "HubSpot" and created["status"] == "active"
    assert created["settings"] == {
        "account_id": "4711",
        "external_screenpop_domain_hs": "app-eu1.hubspot.com",
    }
    assert created["secrets"] == {
        "access_token": {"set": True, "kind": "literal", "reference": None}
    }

    status, listed = await api.admin("GET", CONFIGS)
    assert [c["id"] for c in listed["configurations"]][-1] == config_id
    status, read = await api.admin("GET", f"{CONFIGS}/{config_id}")
    assert status == 200 and read["name"] == "HubSpot EU"

    status, patched = await api.admin(
        "PATCH", f"{CONFIGS}/{config_id}", {"description": "Sales and service"}
    )
    assert status == 200 and patched["description"] == "Sales and service"
    assert patched["secrets"]["access_token"]["set"], "PATCH without secrets keeps them"

    replaced = hubspot(name="HubSpot Europe")
    del replaced["secrets"]
    status, body = await api.admin("PUT", f"{CONFIGS}/{config_id}", replaced)
    assert status == 200 and body["name"] == "HubSpot Europe"
    assert body["secrets"]["access_token"]["kind"] == "literal"

    status, body = await api.admin("POST", f"{CONFIGS}/{config_id}/deactivate")
    assert status == 200 and body["status"] == "inactive"
    status, body = await api.admin("POST", f"{CONFIGS}/{config_id}/activate")
    assert body["status"] == "active"

    # stored encrypted: the database never holds the token in the clear
    engine = create_engine(database_url)
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT secrets FROM crm_configurations WHERE id = :id"), {"id": config_id}
            )
        ).scalar_one()
    await engine.dispose()
    assert HUBSPOT_TOKEN not in str(stored) and "enc:" in str(stored)

    status, _ = await api.admin("DELETE", f"{CONFIGS}/{config_id}")
    assert status == 204
    status, body = await api.admin("GET", f"{CONFIGS}/{config_id}")
    assert status == 404 and body["field"] == "configurationId"
    status, body = await api.admin("GET", f"{CONFIGS}/{config_id}/workflows")
    assert status == 404

    api.assert_never_sent(HUBSPOT_TOKEN)
    assert HUBSPOT_TOKEN not in all_logs.text


async def test_each_configuration_gets_its_ready_workflows(api):
    status, created = await api.admin("POST", CONFIGS, hubspot())
    status, body = await api.admin("GET", f"{CONFIGS}/{created['id']}/workflows")
    assert status == 200 and body["typeId"] == "hubspot"
    assert [(w["workflowName"], w["workflowAction"]) for w in body["workflows"]] == [
        ("Search by phone number", "Search"),
        ("Search by email address", "Search"),
        ("Custom search", "Search"),
        ("Create standard record", "Create"),
        ("Create custom record", "Create"),
        ("Update record", "Update"),
        ("Timeline", "Timeline"),
        ("Data memorialization", "DataMemorialization"),
    ]
    assert all(w["workflowId"].startswith("wf-") for w in body["workflows"])

    status, kustomer = await api.admin(
        "POST",
        CONFIGS,
        {
            "name": "Kustomer",
            "type": "kustomer",
            "settings": {"org": "acme"},
            "secrets": {"api_key": "env:KUSTOMER_KEY"},
        },
    )
    assert status == 201, kustomer
    status, body = await api.admin("GET", f"{CONFIGS}/{kustomer['id']}/workflows")
    names = [w["workflowName"] for w in body["workflows"]]
    assert "Custom search" not in names and "Search by email address" in names


async def test_configuration_validation_names_the_field(api):
    cases = [
        ({"name": "X", "type": "pipedrive"}, "type", "unknown integration type 'pipedrive'"),
        (
            hubspot(settings={"acount_id": "4711"}),
            "settings.acount_id",
            "not a hubspot setting; known settings:",
        ),
        (hubspot(settings={}), "settings.account_id", "Field required"),
        (hubspot(settings={"account_id": "acme"}), "settings.account_id", "should match pattern"),
        (
            hubspot(settings={"account_id": "4711", "api_base": "ftp://x"}),
            "settings.api_base",
            "must be an http(s) URL",
        ),
        (hubspot(secrets={}), "secrets.access_token", "required for hubspot"),
        (
            hubspot(secrets={"access_token": "x1234", "password": "p"}),
            "secrets.password",
            "hubspot takes no secret 'password'; it takes: access_token",
        ),
        (
            hubspot(secrets={"access_token": {"env": "A", "file": "/b"}}),
            "secrets.access_token",
            "exactly one of 'literal', 'env' or 'file'",
        ),
        (
            hubspot(secrets={"access_token": "env:"}),
            "secrets.access_token",
            "'env:' needs a variable name",
        ),
        (
            {
                "name": "Z",
                "type": "zendesk",
                "settings": {"subdomain": "acme", "auth": "api_token"},
                "secrets": {"api_token": "t0k3n"},
            },
            "settings.email",
            "required when auth is api_token",
        ),
        (
            {"name": "SF", "type": "salesforce", "settings": {"client_id": "abc"}, "secrets": {}},
            "secrets.client_secret",
            "required for salesforce with auth 'client_credentials'",
        ),
        (
            {
                "name": "SN",
                "type": "servicenow",
                "settings": {"instance": "https://acme.service-now.com", "username": "u"},
            },
            "settings.instance",
            "must be a bare name",
        ),
        ({"name": "D", "type": "demo", "settings": {"seed": "nope"}}, "settings.seed", ""),
        (
            {"name": "D", "type": "demo", "startup": [{"step": "pin_single"}]},
            "startup",
            "'pin_single' acts on a search result; put a 'search' step before it",
        ),
        (
            {"name": "D", "type": "demo", "startup": [{"step": "search"}, {"step": "search"}]},
            "startup",
            "step 'search' is listed twice",
        ),
        ({"name": "D", "type": "demo", "startup": [{"step": "jump"}]}, "startup[0].step", ""),
    ]
    for body, field, message in cases:
        status, answer = await api.admin("POST", CONFIGS, body)
        assert status == 400, (body, answer)
        assert answer["field"] == field, (body, answer)
        assert message in answer["message"], (body, answer)
    api.assert_never_sent("x1234")
    api.assert_never_sent("t0k3n")


async def test_type_cannot_change_and_ids_are_unique(api):
    status, created = await api.admin("POST", CONFIGS, hubspot(id="hubspot-eu"))
    assert status == 201 and created["id"] == "hubspot-eu"
    status, body = await api.admin("POST", CONFIGS, hubspot(id="hubspot-eu"))
    assert status == 409 and body["field"] == "id"
    status, body = await api.admin("PUT", f"{CONFIGS}/hubspot-eu", {"name": "x", "type": "demo"})
    assert status == 400 and body["field"] == "type"
    assert "cannot change" in body["message"]


async def test_only_one_default(api):
    before = await api.default_config()
    status, created = await api.admin("POST", CONFIGS, hubspot(isDefault=True))
    assert status == 201 and created["isDefault"]
    status, old = await api.admin("GET", f"{CONFIGS}/{before['id']}")
    assert old["isDefault"] is False


async def test_secret_references_are_shown_as_references(api, all_logs, tmp_path):
    key_file = tmp_path / "hubspot.token"
    key_file.write_text(HUBSPOT_TOKEN + "\n")
    status, created = await api.admin(
        "POST", CONFIGS, hubspot(secrets={"access_token": f"file:{key_file}"})
    )
    assert status == 201, created
    assert created["secrets"]["access_token"] == {
        "set": True,
        "kind": "file",
        "reference": f"file:{key_file}",
    }
    status, body = await api.admin(
        "PATCH", f"{CONFIGS}/{created['id']}", {"secrets": {"access_token": {"env": "HS_TOKEN"}}}
    )
    assert body["secrets"]["access_token"]["reference"] == "env:HS_TOKEN"
    api.assert_never_sent(HUBSPOT_TOKEN)
    assert HUBSPOT_TOKEN not in all_logs.text


async def test_pickers_list_record_types_and_fields(api):
    config = await api.default_config()
    status, body = await api.admin("GET", f"{CONFIGS}/{config['id']}/entities")
    assert status == 200
    names = {e["name"]: e for e in body["entities"]}
    assert names["contact"]["label"] and names["custom_subscription"]["standard"] is False
    status, body = await api.admin("GET", f"{CONFIGS}/{config['id']}/entities/contact/fields")
    assert status == 200 and body["name"] == "contact"
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["email"]["type"] == "email" and fields["email"]["isUpdatable"]
    assert fields["description"]["isText"] and not fields["account_id"]["isText"]
    status, body = await api.admin("GET", f"{CONFIGS}/{config['id']}/entities/spaceship/fields")
    assert status == 404 and "spaceship" in body["message"]


async def test_test_endpoint_reaches_the_demo_crm(api):
    config = await api.default_config()
    status, body = await api.admin("POST", f"{CONFIGS}/{config['id']}/test")
    assert status == 200 and body["ok"] is True and body["recordTypes"] >= 5
    assert body["warnings"] == []  # the demo CRM has every table it is configured with
    status, body = await api.admin("POST", f"{CONFIGS}/cfg-missing/test")
    assert status == 404


async def test_startup_steps_default_and_custom(api):
    config = await api.default_config()
    path = f"{CONFIGS}/{config['id']}/startup"
    status, body = await api.admin("GET", path)
    assert status == 200 and body["default"] is True
    assert [s["step"] for s in body["steps"]] == ["search", "pin_single"]
    steps = [
        {"step": "search", "by": "phone"},
        {"step": "pin_single"},
        {
            "step": "create_if_none",
            "recordType": "contact",
            "fields": {"phone": "{ANI}", "last_name": "Caller {ANI}"},
        },
        {"step": "cache"},
    ]
    status, body = await api.admin("PUT", path, {"steps": steps})
    assert status == 200 and body["default"] is False
    assert [s["step"] for s in body["steps"]] == ["search", "pin_single", "create_if_none", "cache"]
    status, body = await api.admin("PUT", path, {"steps": None})
    assert body["default"] is True


async def test_every_admin_and_workflow_endpoint_is_in_openapi(api):
    status, doc = await api.platform("GET", "/api/v1/openapi.json")
    assert status == 200
    paths = doc["paths"]
    expected = {
        "/api/v1/configurations": {"get", "post"},
        "/api/v1/configurations/{configuration_id}": {"get", "put", "patch", "delete"},
        "/api/v1/configurations/{configuration_id}/deactivate": {"post"},
        "/api/v1/configurations/{configuration_id}/test": {"post"},
        "/api/v1/configurations/{configuration_id}/entities": {"get"},
        "/api/v1/configurations/{configuration_id}/entities/{record_type}/fields": {"get"},
        "/api/v1/configurations/{configuration_id}/startup": {"get", "put"},
        "/api/v1/workflows/execute": {"post"},
    }
    for segment in ("data-mappings", "dynamic-data-mappings", "workflows"):
        base = f"/api/v1/configurations/{{configuration_id}}/{segment}"
        expected[base] = {"get", "post"}
        expected[base + "/{item_id}"] = {"get", "put", "delete"}
        expected[base + "/{item_id}/deactivate"] = {"post"}
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))


async def test_times_in_answers_are_rfc3339_with_an_offset_on_every_database(api) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    status, created = await api.admin("POST", CONFIGS, {"name": "Times", "type": "demo"})
    assert status == 201, created
    status, read = await api.admin("GET", f"{CONFIGS}/{created['id']}")
    for body in (created, read):
        for name in ("createdAt", "updatedAt"):
            moment = datetime.fromisoformat(body[name])
            assert moment.utcoffset() is not None, (name, body[name])
