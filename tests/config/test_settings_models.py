"""Each integration type's settings model is defined once, in its adapter's package, and
serves both the configuration API and the adapter.

* the configuration API's schema for a type is the model its package registered with its
  adapter factory (``crm/adapters/<vendor>/settings.py``, ``crm/demo/settings.py``);
* the adapter is built from settings validated by that model: a value the model refuses
  never reaches an adapter, not even one built from a stored row;
* the model refuses every unknown name with the list of known ones, and names a secret or
  a setting given in the wrong place;
* every documented configuration goes through the model (as the admin API stores it) and the
  adapter built from the stored settings accepts it, without a single request;
* leaving out a required name is refused by the model and by the adapter alike;
* docs/configuration.md and each CRM's page list the model's setting names.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.configurations import ConfigurationStore
from crm.config import (
    ConfigurationInput,
    check_secret_names,
    settings_schema,
    validate_settings,
)
from crm.errors import AppError, ConfigError
from crm.protocol import CrmAdapter
from crm.registry import INTEGRATION_TYPES, AdapterContext, create_adapter
from crm.settings import TypeSettings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# Nothing listens on port 9 of the loopback (discard): a URL override that were ever used
# would fail at once instead of reaching a real host.
NOWHERE = "https://127.0.0.1:9"

BUILT_IN = sorted(kind for kind, module in INTEGRATION_TYPES.items() if module.startswith("crm."))


@dataclass(frozen=True)
class Case:
    """A configuration an admin could write, and what its adapter must show for it."""

    name: str
    settings: dict[str, Any]
    secrets: dict[str, str]
    base_url: str  # the adapter's ``system.base_url``
    link: tuple[str, str, str]  # record type, id, expected ``record_url``
    # names whose absence both the model and the adapter refuse, with the field the model
    # names for it when that is not the name itself (an alternative such as subdomain)
    required: dict[str, str] = field(default_factory=dict)


def _required(*names: str, **instead: str) -> dict[str, str]:
    """``settings.X``/``secrets.X`` is resolved in the test; ``instead`` maps a name to the
    field the model reports when that name is the one left out of an alternative."""
    return {**dict.fromkeys(names, ""), **instead}


ORG = "https://contoso.crm4.dynamics.com"
GUID = "6f2e4d1a-0b3c-4e5f-8a9b-0c1d2e3f4a5b"
SN_LINK = "https://acme.service-now.com/nav_to.do?uri=sys_user.do%3Fsys_id%3D{}"

CASES: dict[str, list[Case]] = {
    "demo": [
        Case(
            "defaults",
            {},
            {},
            "http://localhost:3978/demo-crm",
            ("contact", "c1", "http://localhost:3978/demo-crm/contact/c1"),
        ),
        Case(
            "every setting",
            {"base_url": "https://demo-crm.example/", "latency_ms": 5, "seed": "empty"},
            {},
            "https://demo-crm.example",
            ("case", "k 1", "https://demo-crm.example/case/k%201"),
        ),
    ],
    "salesforce": [
        Case(
            "client credentials",
            {"client_id": "3MVG9abc"},
            {"client_secret": "sf-s3cret"},
            "https://login.salesforce.com",
            ("Contact", "003x", "https://login.salesforce.com/lightning/r/Contact/003x/view"),
            _required("client_id", "client_secret"),
        ),
        Case(
            "JWT bearer",
            {
                "client_id": "3MVG9abc",
                "auth": "jwt_bearer",
                "username": "cc@acme.example",
                "login_url": "https://acme.my.salesforce.com",
            },
            {"private_key": "-----BEGIN PRIVATE KEY-----"},
            "https://acme.lightning.force.com",
            ("Lead", "00Qx", "https://acme.lightning.force.com/lightning/r/Lead/00Qx/view"),
            _required("client_id", "username", "private_key"),
        ),
        Case(
            "every setting",
            {
                "client_id": "3MVG9abc",
                "auth": "client_credentials",
                "login_url": "https://acme.my.salesforce.com",
                "token_url": f"{NOWHERE}/token",
                "instance_url": "https://acme.my.salesforce.com",
                "lightning_url": "https://acme.lightning.force.com",
                "username": "cc@acme.example",
                "jwt_audience": "https://test.salesforce.com",
                "api_version": "v61.0",
                "caller_record_types": ["Contact", "Account"],
                "timeline_key_field": "Interaction_Key__c",
            },
            {"client_secret": "sf-s3cret"},
            "https://acme.lightning.force.com",
            ("Account", "001x", "https://acme.lightning.force.com/lightning/r/Account/001x/view"),
        ),
    ],
    "dynamics": [
        Case(
            "tenant",
            {"org_url": ORG, "tenant_id": "contoso.onmicrosoft.com", "client_id": "51f81489"},
            {"client_secret": "dv-s3cret"},
            ORG,
            ("contact", GUID, f"{ORG}/main.aspx?pagetype=entityrecord&etn=contact&id={GUID}"),
            _required("org_url", "tenant_id", "client_id", "client_secret"),
        ),
        Case(
            "token_url instead of the tenant",
            {"org_url": ORG, "client_id": "51f81489", "token_url": f"{NOWHERE}/token"},
            {"client_secret": "dv-s3cret"},
            ORG,
            ("lead", GUID, f"{ORG}/main.aspx?pagetype=entityrecord&etn=lead&id={GUID}"),
            _required("org_url", "client_id", "client_secret", token_url="settings.tenant_id"),
        ),
        Case(
            "authority instead of the tenant",
            {"org_url": ORG, "client_id": "51f81489", "authority": f"{NOWHERE}/contoso"},
            {"client_secret": "dv-s3cret"},
            ORG,
            ("lead", GUID, f"{ORG}/main.aspx?pagetype=entityrecord&etn=lead&id={GUID}"),
            _required(authority="settings.tenant_id"),
        ),
        Case(
            "every setting",
            {
                "org_url": ORG + "/",
                "tenant_id": "contoso.onmicrosoft.com",
                "client_id": "51f81489",
                "api_base": f"{NOWHERE}/api/data/v9.1",
                "api_version": "9.1",
                "authority": f"{NOWHERE}/contoso",
                "token_url": f"{NOWHERE}/token",
                "scope": f"{ORG}/.default",
                "ca_bundle": "/etc/ssl/extra-ca.pem",
                "app_id": "app-7",
                "caller_record_types": ["contact", "account"],
                "timeline_activity": "task",
                "timeline_key_field": "new_interactionkey",
                "description_max": 4000,
                "page_size": 50,
            },
            {"client_secret": "dv-s3cret"},
            ORG,
            (
                "account",
                GUID,
                f"{ORG}/main.aspx?pagetype=entityrecord&etn=account&id={GUID}&appid=app-7",
            ),
        ),
    ],
    "hubspot": [
        Case(
            "private app",
            {"account_id": "4711"},
            {"access_token": "pat-eu1-s3cret"},
            "https://app.hubspot.com",
            ("contacts", "51", "https://app.hubspot.com/contacts/4711/record/0-1/51"),
            _required("account_id", "access_token"),
        ),
        Case(
            "every setting",
            {
                "account_id": "4711",
                "external_screenpop_domain_hs": "app-eu1.hubspot.com",
                "api_base": NOWHERE,
                "api_version": "2026-03",
                "caller_types": ["contacts", "companies"],
                "timeout_seconds": 5,
            },
            {"access_token": "pat-eu1-s3cret"},
            "https://app-eu1.hubspot.com",
            ("companies", "7", "https://app-eu1.hubspot.com/contacts/4711/record/0-2/7"),
        ),
    ],
    "servicenow": [
        Case(
            "basic",
            {"instance": "acme"},
            {"username": "cc.integration", "password": "sn-pw"},
            "https://acme.service-now.com",
            ("sys_user", "a1", SN_LINK.format("a1")),
            _required("instance", "username", "password"),
        ),
        Case(
            "OAuth",
            {"instance": "acme", "auth": "oauth"},
            {
                "username": "cc.integration",
                "password": "sn-pw",
                "client_id": "sn-client",
                "client_secret": "sn-s3cret",
            },
            "https://acme.service-now.com",
            ("sys_user", "b2", SN_LINK.format("b2")),
            _required("instance", "username", "password", "client_id", "client_secret"),
        ),
        Case(
            "every setting",
            {
                "instance": "acme",
                "auth": "oauth",
                "api_base": NOWHERE,
                "token_url": f"{NOWHERE}/oauth_token.do",
                "api_version": "v2",
                "caller_tables": ["sys_user", "customer_contact"],
                "related_tables": [
                    ["incident", "caller_id"],
                    ["sn_customerservice_case", "contact"],
                ],
                "journal_tables": ["incident", "sn_customerservice_case"],
                "journal_field": "comments",
                "timeline_table": "interaction",
                "timeout_seconds": 5,
            },
            {
                "username": "cc.integration",
                "password": "sn-pw",
                "client_id": "sn-client",
                "client_secret": "sn-s3cret",
            },
            "https://acme.service-now.com",
            ("sys_user", "c3", SN_LINK.format("c3")),
        ),
    ],
    "zendesk": [
        Case(
            "OAuth client",
            {"subdomain": "acme"},
            {"client_id": "cc-client", "client_secret": "zd-s3cret"},
            "https://acme.zendesk.com",
            ("user", "12", "https://acme.zendesk.com/agent/users/12"),
            _required("subdomain", "client_id", "client_secret"),
        ),
        Case(
            "API token",
            {"subdomain": "acme", "auth": "api_token", "email": "cc@acme.example"},
            {"api_token": "zd-t0ken"},
            "https://acme.zendesk.com",
            ("ticket", "34", "https://acme.zendesk.com/agent/tickets/34"),
            _required("subdomain", "email", "api_token"),
        ),
        Case(
            "api_base instead of the subdomain",
            {"api_base": f"{NOWHERE}/api/v2", "agent_url": "https://support.acme.example"},
            {"client_id": "cc-client", "client_secret": "zd-s3cret"},
            "https://support.acme.example",
            ("user", "12", "https://support.acme.example/agent/users/12"),
            _required(api_base="settings.subdomain"),
        ),
        Case(
            "every setting",
            {
                "subdomain": "acme",
                "auth": "oauth_client_credentials",
                "api_base": f"{NOWHERE}/api/v2",
                "token_url": f"{NOWHERE}/oauth/tokens",
                "agent_url": "https://acme.zendesk.com",
                "scope": "read",
                "token_expires_in": 3600,
                "email": "cc@acme.example",
                "phone_fields": ["mobile"],
                "timeline_ticket_status": "solved",
            },
            {"client_id": "cc-client", "client_secret": "zd-s3cret"},
            "https://acme.zendesk.com",
            ("organization", "5", "https://acme.zendesk.com/agent/organizations/5"),
        ),
    ],
    "kustomer": [
        Case(
            "API key",
            {"org": "acme"},
            {"api_key": "ku-s3cret"},
            "https://acme.kustomerapp.com",
            ("customer", "9", "https://acme.kustomerapp.com/app/customers/9"),
            _required("org", "api_key"),
        ),
        Case(
            "every setting",
            {
                "org": "acme",
                "api_base": f"{NOWHERE}/v1",
                "app_url": "https://acme.example/",
                "timeline_conversation_status": "open",
            },
            {"api_key": "ku-s3cret"},
            "https://acme.example",
            ("conversation", "8", "https://acme.example/app/conversations/8"),
        ),
    ],
    "oracle": [
        Case(
            "basic",
            {"site": "acme.custhelp.com"},
            {"username": "cc.integration", "password": "or-pw"},
            "https://acme.custhelp.com",
            ("contact", "7", "https://acme.custhelp.com/services/rest/connect/v1.4/contacts/7"),
            _required("site", "username", "password"),
        ),
        Case(
            "OAuth",
            {
                "site": "acme.custhelp.com",
                "auth": "oauth",
                "token_url": f"{NOWHERE}/oauth2/v1/token",
            },
            {"client_id": "or-client", "client_secret": "or-s3cret"},
            "https://acme.custhelp.com",
            ("incident", "3", "https://acme.custhelp.com/services/rest/connect/v1.4/incidents/3"),
            _required("site", "token_url", "client_id", "client_secret"),
        ),
        Case(
            "api_base instead of the site",
            {"api_base": f"{NOWHERE}/services/rest/connect/v1.4"},
            {"username": "cc.integration", "password": "or-pw"},
            f"{NOWHERE}/services/rest/connect/v1.4",
            ("contact", "7", f"{NOWHERE}/services/rest/connect/v1.4/contacts/7"),
            _required("username", "password", api_base="settings.site"),
        ),
        Case(
            "every setting",
            {
                "site": "acme.custhelp.com",
                "auth": "oauth",
                "api_version": "v1.3",
                "api_base": f"{NOWHERE}/services/rest/connect/v1.3",
                "token_url": f"{NOWHERE}/oauth2/v1/token",
                "scope": "urn:opc:resource:consumer::all",
                "application_context": "Customer Card (Teams)",
                "record_url_template": "https://agent.acme.example/{collection}/{id}?t={type}",
            },
            {"client_id": "or-client", "client_secret": "or-s3cret"},
            "https://acme.custhelp.com",
            ("contact", "7", "https://agent.acme.example/contacts/7?t=contact"),
        ),
    ],
}

ALL_CASES = [
    pytest.param(kind, case, id=f"{kind}-{case.name}")
    for kind, cases in CASES.items()
    for case in cases
]
REQUIRED = [
    pytest.param(kind, case, name, id=f"{kind}-{case.name}-without-{name}")
    for kind, cases in CASES.items()
    for case in cases
    for name in case.required
]


@pytest.fixture
def sent() -> list[httpx.Request]:
    """Every request the ``http`` client was asked to send."""
    return []


@pytest.fixture
async def http(sent: list[httpx.Request]) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request is recorded and answered 503 in-process: building an
    adapter must not send any, and none can reach a real host."""

    def refuse(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(503)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse), timeout=2) as client:
        yield client


def store(kind: str, settings: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    """What the admin API stores for a configuration: the request body through the model,
    settings as ``ConfigurationStore`` keeps them, secret names checked."""
    body = ConfigurationInput.model_validate(
        {"name": f"{kind} test", "type": kind, "settings": settings, "secrets": secrets}
    )
    stored = ConfigurationStore.checked_settings(kind, body.settings)
    check_secret_names(kind, validate_settings(kind, stored), set(body.secrets))
    return stored


def context(
    kind: str,
    settings: Mapping[str, Any],
    secrets: Mapping[str, str],
    http: httpx.AsyncClient,
    tmp_path: Path,
) -> AdapterContext:
    return AdapterContext(
        configuration_id=f"cfg-{kind}",
        type=kind,
        label=f"{kind} test",
        settings=settings,
        secrets=secrets,
        http=http,
        data_dir=tmp_path,
        extra={"demo_crm_url": f"sqlite+aiosqlite:///{tmp_path / 'demo-crm.db'}"},
    )


async def build_and_close(ctx: AdapterContext) -> tuple[str, CrmAdapter]:
    """Build the adapter and close it again straight away. Salesforce and Dynamics schedule a
    token warm-up when built inside a running loop; closing before this coroutine yields
    cancels that task before it starts, so building is all that runs."""
    adapter = create_adapter(ctx)
    base_url = adapter.system.base_url
    await adapter.aclose()
    return base_url, adapter


def model_refusal(kind: str, settings: dict[str, Any], secrets: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        store(kind, settings, secrets)
    return caught.value


# --- the table and the model ----------------------------------------------------------------


def settings_names(kind: str) -> set[str]:
    return set(settings_schema(kind).model_fields)


def secret_names(kind: str) -> set[str]:
    return set(settings_schema(kind).SECRETS or {})


def test_every_integration_type_has_cases():
    assert set(BUILT_IN) == set(CASES)


@pytest.mark.parametrize("kind", BUILT_IN)
def test_the_api_schema_is_the_model_of_the_adapters_package(kind):
    package = importlib.import_module(INTEGRATION_TYPES[kind])
    (model,) = [getattr(package, name) for name in package.__all__ if name.endswith("Settings")]
    assert model.__module__ == f"{INTEGRATION_TYPES[kind]}.settings"
    assert settings_schema(kind) is model
    assert issubclass(model, TypeSettings)


@pytest.mark.parametrize("kind", BUILT_IN)
async def test_the_adapter_is_built_from_the_validated_model(kind, http, tmp_path):
    """A stored row the model would refuse (written before a check existed, or by hand)
    does not build an adapter: the registry validates with the same model, and the error
    names the setting."""
    case = CASES[kind][0]
    with pytest.raises(ConfigError) as caught:
        await build_and_close(
            context(kind, {**case.settings, "colour": "blue"}, case.secrets, http, tmp_path)
        )
    assert caught.value.field == "settings.colour"


@pytest.mark.parametrize("kind", BUILT_IN)
def test_an_unknown_setting_is_refused_with_the_known_names(kind):
    case = CASES[kind][0]
    error = model_refusal(kind, {**case.settings, "colour": "blue"}, case.secrets)
    assert error.field == "settings.colour"
    known = error.detail.split("known settings: ", 1)[1]
    assert set(known.split(", ")) == settings_names(kind)


@pytest.mark.parametrize("kind", BUILT_IN)
def test_an_unknown_secret_is_refused_with_the_known_names(kind):
    case = CASES[kind][0]
    error = model_refusal(kind, case.settings, {**case.secrets, "pin": "1234"})
    assert error.field == "secrets.pin"
    known = error.detail.split("it takes: ", 1)[1]
    assert set(known.split(", ")) - {"none"} == secret_names(kind)


# names the model used to take although the adapters never read them, and names in the
# wrong place: (type, settings, secrets, field named in the refusal, part of its message)
MISPLACED = [
    (
        "dynamics",
        {"organization_url": ORG, "tenant_id": "t", "client_id": "c"},
        {"client_secret": "s"},
        "settings.organization_url",
        "known settings: org_url,",
    ),
    (
        "servicenow",
        {"instance": "acme", "username": "cc"},
        {"password": "p"},
        "settings.username",
        "servicenow takes 'username' as a secret, not a setting: give it under secrets",
    ),
    (
        "servicenow",
        {"instance": "acme", "auth": "oauth", "client_id": "c"},
        {"username": "u", "password": "p", "client_secret": "s"},
        "settings.client_id",
        "servicenow takes 'client_id' as a secret",
    ),
    (
        "servicenow",
        {"instance": "acme"},
        {"username": "u", "password": "p", "refresh_token": "r"},
        "secrets.refresh_token",
        "servicenow takes no secret 'refresh_token'",
    ),
    (
        "oracle",
        {"site": "acme.custhelp.com", "username": "cc"},
        {"password": "p"},
        "settings.username",
        "oracle takes 'username' as a secret",
    ),
    (
        "oracle",
        {
            "site": "acme.custhelp.com",
            "auth": "oauth",
            "client_id": "c",
            "token_url": f"{NOWHERE}/token",
        },
        {"client_secret": "s"},
        "settings.client_id",
        "oracle takes 'client_id' as a secret",
    ),
    (
        "salesforce",
        {"client_id": "c"},
        {"client_secret": "s", "login_url": "https://x"},
        "secrets.login_url",
        "(it is a setting)",
    ),
    (
        "kustomer",
        {"org": "acme", "timeout_seconds": 5},
        {"api_key": "k"},
        "settings.timeout_seconds",
        "not a kustomer setting",
    ),
]


@pytest.mark.parametrize(
    ("kind", "settings", "secrets", "field", "hint"),
    [pytest.param(*row, id=f"{row[0]}-{row[3]}") for row in MISPLACED],
)
def test_names_the_adapter_does_not_read_are_refused(kind, settings, secrets, field, hint):
    error = model_refusal(kind, settings, secrets)
    assert (error.field, hint in error.detail) == (field, True), error.detail


@pytest.mark.parametrize(
    ("kind", "settings", "secrets", "field"),
    [
        (
            "hubspot",
            {"account_id": "4711", "caller_types": ["contacts/../x"]},
            {"access_token": "t"},
            "settings.caller_types",
        ),
        (
            "servicenow",
            {"instance": "acme", "caller_tables": ["sys_user^ORx"]},
            {"username": "u", "password": "p"},
            "settings.caller_tables",
        ),
        (
            "servicenow",
            {"instance": "acme", "related_tables": [["incident;x", "caller_id"]]},
            {"username": "u", "password": "p"},
            "settings.related_tables",
        ),
    ],
)
async def test_names_the_adapter_refuses_are_settings_errors(
    kind, settings, secrets, field, http, tmp_path
):
    """These adapters refuse such names with a CRM error while being built; the model names
    the setting instead, before anything is stored."""
    assert model_refusal(kind, settings, secrets).field == field
    with pytest.raises(AppError):
        await build_and_close(context(kind, settings, secrets, http, tmp_path))


# --- model and adapter together ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "case"), ALL_CASES)
async def test_a_documented_configuration_builds_its_adapter(kind, case, http, sent, tmp_path):
    stored = store(kind, case.settings, case.secrets)
    base_url, adapter = await build_and_close(context(kind, stored, case.secrets, http, tmp_path))
    record_type, record_id, link = case.link
    assert base_url == case.base_url
    assert adapter.record_url(record_type, record_id) == link
    assert sent == [], "building an adapter must not call the CRM"


@pytest.mark.parametrize(("kind", "case", "name"), REQUIRED)
async def test_a_required_name_is_required_by_model_and_adapter(
    kind, case, name, http, sent, tmp_path
):
    settings = {k: v for k, v in case.settings.items() if k != name}
    secrets = {k: v for k, v in case.secrets.items() if k != name}
    assert (settings, secrets) != (case.settings, case.secrets), f"{name} is not in the case"

    error = model_refusal(kind, settings, secrets)
    where = "settings" if name in case.settings else "secrets"
    assert error.field == (case.required[name] or f"{where}.{name}"), error.detail

    with pytest.raises(ConfigError):
        await build_and_close(context(kind, settings, secrets, http, tmp_path))
    assert sent == []


# --- documentation --------------------------------------------------------------------------


def _outside_parentheses(text: str) -> str:
    return re.sub(r"\([^()]*\)", "", text)


def _configuration_md_rows() -> dict[str, tuple[set[str], set[str], set[str]]]:
    """type -> (settings, bold settings, secrets) from docs/configuration.md's table; values
    and remarks in parentheses are not names."""
    text = (DOCS / "configuration.md").read_text()
    section = text.split("### Settings per type", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        kind, settings, secrets = (
            _outside_parentheses(cell) for cell in line.strip().strip("|").split("|")
        )
        rows[kind.strip(" `")] = (
            set(re.findall(r"`(\w+)`", settings)),
            set(re.findall(r"\*\*`(\w+)`\*\*", settings)),
            set(re.findall(r"`(\w+)`", secrets)),
        )
    return rows


def test_configuration_md_lists_the_models_names():
    rows = _configuration_md_rows()
    assert set(rows) == set(BUILT_IN)
    for kind, (settings, required, secrets) in rows.items():
        assert settings == settings_names(kind), kind
        assert secrets == secret_names(kind), kind
        # bold: the settings the first (simplest) documented case cannot do without
        first = CASES[kind][0]
        assert required == {name for name in first.required if name in first.settings}, kind


CRM_PAGES = {
    "demo": "demo-crm.md",
    **{kind: f"crm-{kind}.md" for kind in BUILT_IN if kind != "demo"},
}


@pytest.mark.parametrize("kind", BUILT_IN)
def test_the_crm_page_lists_its_models_names(kind):
    text = (DOCS / CRM_PAGES[kind]).read_text()
    section = re.split(r"\n## [^\n]*[Ss]ettings[^\n]*\n", text, maxsplit=1)[1]
    section = section.split("\n## ", 1)[0]
    names = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))
    assert names == settings_names(kind)


def test_the_example_configuration_file_passes_the_model():
    document = yaml.safe_load((DOCS / "examples" / "config.yaml").read_text())
    for configuration in document["configurations"]:
        kind = configuration["type"]
        settings = configuration.get("settings") or {}
        assert set(settings) <= settings_names(kind)
        store(kind, settings, configuration.get("secrets") or {})
