"""Memorialization and dynamic data mappings through the admin API: every validation rule
with its message, the 5 + 3 limit, lowercase script variables."""

from __future__ import annotations

import pytest

CONFIGS = "/api/v1/configurations"
# where an error in the first rule of the first record type points
CRM_FIELD = "recordTypes[0].fields[0].crmField"  # checked against the CRM's metadata
SOURCE = "recordTypes[0].fields[0].source"  # checked by the model


def memo(*fields, record_type="contact"):  # type: ignore[no-untyped-def]
    return {
        "name": "Call data",
        "recordTypes": [
            {
                "recordType": record_type,
                "fields": [
                    {"crmField": crm, "source": {"channel": channel, "field": source}}
                    for crm, channel, source in fields
                ],
            }
        ],
    }


def dynamic(fields, record_type="contact"):  # type: ignore[no-untyped-def]
    return {"name": "Card fields", "recordTypes": [{"recordType": record_type, "fields": fields}]}


@pytest.fixture
async def config_id(api) -> str:  # type: ignore[no-untyped-def]
    return (await api.default_config())["id"]


async def test_memorialization_mapping_lifecycle(api, config_id):
    path = f"{CONFIGS}/{config_id}/data-mappings"
    body = memo(
        ("description", "voice", "Disposition Notes"), ("title", "script_variable", "accountnumber")
    )
    body["recordTypes"].append(
        {
            "recordType": "case",
            "fields": [
                {
                    "crmField": "internal_comments",
                    "source": {"channel": "digital", "field": "Transcription Text"},
                }
            ],
        }
    )
    status, created = await api.admin("POST", path, body)
    assert status == 201, created
    assert created["entities"] == "contact, case" and created["status"] == "active"
    mapping_id = created["id"]
    status, listed = await api.admin("GET", path)
    assert listed["totalRecords"] == 1 and listed["dataMappings"][0]["id"] == mapping_id
    body["name"] = "Call and chat data"
    status, replaced = await api.admin("PUT", f"{path}/{mapping_id}", body)
    assert status == 200 and replaced["name"] == "Call and chat data"
    status, body = await api.admin("POST", f"{path}/{mapping_id}/deactivate")
    assert body["status"] == "inactive"
    status, _ = await api.admin("DELETE", f"{path}/{mapping_id}")
    assert status == 204
    status, body = await api.admin("GET", f"{path}/{mapping_id}")
    assert status == 404


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            memo(("nickname", "voice", "ANI")),
            CRM_FIELD,
            "'nickname' is not a field of contact; its fields are: first_name",
        ),
        (
            memo(("account_id", "voice", "ANI")),
            CRM_FIELD,
            "field 'account_id' (Account) of contact is a reference field and does not accept text",
        ),
        (
            memo(("preferred_language", "voice", "ANI")),
            CRM_FIELD,
            "is a picklist field and does not accept text",
        ),
        (
            memo(("case_number", "voice", "ANI"), record_type="case"),
            CRM_FIELD,
            "field 'case_number' (Case Number) of case is read-only in the CRM",
        ),
        (
            memo(("name", "voice", "ANI"), record_type="spaceship"),
            "recordTypes[0].recordType",
            "'spaceship' is not a record type of this CRM; choose one of: account, contact",
        ),
        (
            memo(("title", "voice", "Transcription Text")),
            SOURCE,
            "'Transcription Text' is not a voice field; choose one of: Agent ID",
        ),
        (
            memo(("title", "digital", "ANI")),
            SOURCE,
            "'ANI' is not a digital field",
        ),
        (
            memo(("title", "script_variable", "AccountNumber")),
            SOURCE,
            "script variable 'AccountNumber' must be lowercase: the contact-center platform "
            "delivers script variable names in lowercase",
        ),
        (
            memo(("title", "sms", "ANI")),
            "recordTypes[0].fields[0].source.channel",
            "Input should be 'voice', 'digital' or 'script_variable'",
        ),
        (
            memo(("title", "voice", "ANI"), ("title", "voice", "DNIS")),
            "recordTypes",
            "contact: field 'title' is mapped twice",
        ),
        ({"name": "Empty", "recordTypes": []}, "recordTypes", "name at least one record type"),
    ],
)
async def test_memorialization_mapping_rules(api, config_id, body, field, message):
    status, answer = await api.admin("POST", f"{CONFIGS}/{config_id}/data-mappings", body)
    assert status == 400, answer
    assert answer["field"] == field
    assert message in answer["message"]


async def test_dynamic_mapping_within_limits(api, config_id):
    path = f"{CONFIGS}/{config_id}/dynamic-data-mappings"
    five_text_three_other = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "account_id",
        "preferred_language",
    ]
    status, created = await api.admin("POST", path, dynamic(five_text_three_other))
    assert status == 201, created
    status, body = await api.admin(
        "POST",
        path,
        dynamic(["subject", "description", "status", "priority", "origin"], record_type="case"),
    )
    assert status == 201, body


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            ["first_name", "last_name", "email", "phone", "title", "department"],
            "recordTypes[0].fields",
            "6 text fields chosen for contact (first_name, last_name, "
            "email, phone, title, department); the card shows at most 5 text fields",
        ),
        (
            ["first_name", "nickname"],
            "recordTypes[0].fields[1]",
            "'nickname' is not a field of contact",
        ),
        (
            ["first_name", "first_name"],
            "recordTypes[0].fields",
            "field 'first_name' is listed twice",
        ),
        (
            ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
            "recordTypes[0].fields",
            "9 fields chosen; the card shows at most 5 text fields and 3 fields of other types",
        ),
    ],
)
async def test_dynamic_mapping_rules(api, config_id, fields, field, message):
    record_type = "case" if "status" in fields else "contact"
    status, answer = await api.admin(
        "POST",
        f"{CONFIGS}/{config_id}/dynamic-data-mappings",
        dynamic(fields, record_type=record_type),
    )
    assert status == 400, answer
    assert answer["field"] == field
    assert message in answer["message"]


async def test_four_other_fields_are_one_too_many(api, config_id):
    status, answer = await api.admin(
        "POST",
        f"{CONFIGS}/{config_id}/dynamic-data-mappings",
        dynamic(["status", "priority", "origin", "contact_id"], record_type="case"),
    )
    assert status == 400
    assert answer["message"] == (
        "recordTypes[0].fields: 4 non-text fields chosen for case (status, priority, origin, "
        "contact_id); the card shows at most 3 fields that are not text (numbers, dates, "
        "picklists, ...)"
    )


async def test_card_uses_the_dynamic_mapping(api, config_id):
    """The directory hands the mapping's fields to the card; here through a search result."""
    status, _ = await api.admin(
        "POST", f"{CONFIGS}/{config_id}/dynamic-data-mappings", dynamic(["last_name", "email"])
    )
    assert status == 201
    workflow_id = await api.workflow_id(config_id, "Search by phone number")
    status, body = await api.platform(
        "POST",
        "/api/v1/workflows/execute",
        {
            "configurationId": config_id,
            "workflowId": workflow_id,
            "payload": {"workflowInput": {"phoneNumber": "+49301234567"}},
        },
    )
    assert status == 200, body
    record = body["result"][0]["records"][0]
    assert [f["name"] for f in record["fields"]] == ["last_name", "email"]
    assert record["fields"][0] == {"name": "last_name", "label": "Last Name", "value": "Schmidt"}


async def test_workflow_definitions_are_checked(api, config_id):
    path = f"{CONFIGS}/{config_id}/workflows"
    status, body = await api.admin(
        "POST",
        path,
        {
            "kind": "search",
            "by": "dynamic",
            "name": "By customer number",
            "criteria": [
                {
                    "recordType": "account",
                    "condition": "or",
                    "columns": [
                        {
                            "field": "customer_number",
                            "operator": "equals",
                            "value": "{customernumber}",
                        }
                    ],
                }
            ],
        },
    )
    assert status == 201, body
    assert body["workflowAction"] == "Search" and body["workflowId"].startswith("wf-")
    cases = [
        (
            {
                "kind": "search",
                "by": "dynamic",
                "name": "x",
                "criteria": [
                    {"recordType": "account", "columns": [{"field": "nope", "value": "1"}]}
                ],
            },
            "criteria[0].columns[0].field",
            "'nope' is not a field of account",
        ),
        (
            {
                "kind": "search",
                "by": "dynamic",
                "name": "x",
                "criteria": [
                    {
                        "recordType": "account",
                        "columns": [{"field": "name", "operator": "like", "value": "1"}],
                    }
                ],
            },
            "criteria[0].columns[0].operator",
            "Input should be 'equals' or 'notequals'",
        ),
        (
            {
                "kind": "create",
                "mode": "standard",
                "name": "x",
                "recordType": "custom_subscription",
            },
            "recordType",
            "custom_subscription is a custom record type; a standard create "
            "workflow creates only the CRM's standard record types",
        ),
        (
            {
                "kind": "create",
                "mode": "custom",
                "name": "x",
                "recordType": "contact",
                "fields": {"shoe_size": "42"},
            },
            "fields.shoe_size",
            "'shoe_size' is not a field",
        ),
        (
            {"kind": "memorialization", "name": "x", "mappingId": "map-missing"},
            "mappingId",
            "no memorialization mapping map-missing",
        ),
        ({"kind": "teleport", "name": "x"}, "kind", "does not match any of the expected tags"),
    ]
    for body, field, message in cases:
        status, answer = await api.admin("POST", path, body)
        assert status == 400, (body, answer)
        assert answer.get("field", "") == field, answer
        assert message in answer["message"], answer
