"""The integration model an admin works with: CRM configurations, mappings and workflows.

JSON and YAML use the camelCase names shown in the aliases (as the commercial anchor's API
does); Python code uses snake_case. Shapes only: checks against a CRM's field metadata live
in :mod:`crm.validation`, secret storage in :mod:`crm.secrets`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError, CrmError, InputError, error_field
from .hubspot_query import check_object_type
from .mappings import MemorializationMapping
from .registry import INTEGRATION_TYPES
from .secrets import SecretStatus
from .servicenow_query import check_table
from .startup import StartupStep, check_startup_steps

__all__ = [
    "Status",
    "TYPE_LABELS",
    "TypeSettings",
    "SETTINGS_SCHEMAS",
    "settings_schema",
    "validate_settings",
    "check_secret_names",
    "ConfigurationInput",
    "ConfigurationPatch",
    "Configuration",
    "MemorializationMappingInput",
    "MAX_TEXT_FIELDS",
    "MAX_OTHER_FIELDS",
    "DynamicRecordType",
    "DynamicDataMapping",
    "SearchColumn",
    "SearchCriteria",
    "SearchWorkflow",
    "CreateWorkflow",
    "UpdateWorkflow",
    "TimelineWorkflow",
    "MemorializationWorkflow",
    "Workflow",
    "WORKFLOW_ACTIONS",
    "workflow_action",
    "ID_PATTERN",
]

Status = Literal["active", "inactive"]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

TYPE_LABELS: dict[str, str] = {
    "demo": "Demo CRM",
    "salesforce": "Salesforce",
    "dynamics": "Microsoft Dynamics 365",
    "hubspot": "HubSpot",
    "servicenow": "ServiceNow",
    "zendesk": "Zendesk",
    "kustomer": "Kustomer",
    "oracle": "Oracle B2C Service",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _https_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("must be an http(s) URL, e.g. https://example.com")
    return value.rstrip("/")


def _host(value: str) -> str:
    if not re.match(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$", value):
        raise ValueError("must be a bare name (letters, digits, '-'), not a URL")
    return value


def _host_name(value: str | None) -> str | None:
    """A host name with dots (``acme.custhelp.com``), not a URL."""
    if value is not None and not re.match(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", value):
        raise ValueError("must be a host name such as acme.custhelp.com, not a URL")
    return value


def _names(check: Callable[[str], str]) -> Callable[[list[str] | None], list[str] | None]:
    """A validator that runs an adapter's own name check over a list of names, so a bad
    table or object name is a settings error here instead of a CRM error at build time."""

    def validate(names: list[str] | None) -> list[str] | None:
        for name in names or ():
            try:
                check(name)
            except CrmError as exc:
                raise ValueError(exc.detail) from None
        return names

    return validate


# --- per-type settings ----------------------------------------------------------------
#
# Each model lists exactly the setting names its adapter (crm/<type>.py) reads from
# ``context.settings``, and ``SECRETS`` exactly the names it reads from ``context.secrets``:
# a name the adapter ignores must be refused here, or an admin's setting silently does
# nothing. tests/config/test_settings_match_adapters.py holds the two sides together.


class TypeSettings(_Model):
    """Base of every type's settings. ``SECRETS`` maps each secret name the type takes to
    the auth methods that need it (an empty tuple: optional)."""

    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {}

    def auth_method(self) -> str:
        return str(getattr(self, "auth", "default"))

    def required_secrets(self) -> set[str]:
        method = self.auth_method()
        return {name for name, methods in (self.SECRETS or {}).items() if method in methods}

    def required_settings_problem(self) -> tuple[str, str] | None:
        """A setting the chosen auth method needs but is missing: (name, why)."""
        return None


class _GenericSettings(TypeSettings):
    """For integration types without a schema of their own (tests register such types)."""

    model_config = ConfigDict(extra="allow")
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = None  # any names


class DemoSettings(TypeSettings):
    base_url: str | None = None  # where Open in CRM links point
    latency_ms: float = Field(default=0, ge=0, le=60_000)  # simulated CRM latency
    seed: Literal["sample", "empty"] = "sample"

    _base = field_validator("base_url")(_https_url)


class SalesforceSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {
        "client_secret": ("client_credentials",),
        "private_key": ("jwt_bearer",),
    }
    auth: Literal["client_credentials", "jwt_bearer"] = "client_credentials"
    client_id: str = Field(min_length=1)  # the connected app's consumer key
    login_url: str = "https://login.salesforce.com"  # My Domain URL, or test. for sandboxes
    token_url: str | None = None  # default {login_url}/services/oauth2/token
    instance_url: str | None = None  # overrides the token answer's instance_url
    lightning_url: str | None = None  # overrides https://{domain}.lightning.force.com
    username: str | None = None  # the integration user a JWT bearer token acts as
    jwt_audience: str | None = None
    api_version: str = Field(default="62.0", pattern=r"^v?\d{2,3}\.0$")
    caller_record_types: list[str] = Field(default_factory=lambda: ["Contact", "Lead"])
    timeline_key_field: str = "CallObject"

    _sf_urls = field_validator("login_url", "token_url", "instance_url", "lightning_url")(
        _https_url
    )

    def required_settings_problem(self) -> tuple[str, str] | None:
        if self.auth == "jwt_bearer" and not self.username:
            return "username", "required when auth is jwt_bearer"
        return None


class DynamicsSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {"client_secret": ("default",)}
    org_url: str  # https://{org}.crm.dynamics.com
    tenant_id: str | None = None  # required unless authority or token_url is given
    client_id: str = Field(min_length=1)
    api_base: str | None = None  # default {org_url}/api/data/v{api_version}
    api_version: str = Field(default="9.2", pattern=r"^v?\d+\.\d+$")
    authority: str | None = None  # default https://login.microsoftonline.com/{tenant_id}
    token_url: str | None = None  # plain client-credentials POST instead of MSAL
    scope: str | None = None  # default {org_url}/.default
    ca_bundle: str | None = None  # PEM file of extra CAs for the token calls
    app_id: str | None = None  # model-driven app id in record links
    caller_record_types: list[str] = Field(default_factory=lambda: ["contact", "lead"])
    timeline_activity: Literal["phonecall", "task"] = "phonecall"
    timeline_key_field: str | None = None
    description_max: int = Field(default=2000, ge=1, le=1_048_576)
    page_size: int = Field(default=100, ge=1, le=5000)

    _urls = field_validator("org_url", "api_base", "authority", "token_url")(_https_url)

    def required_settings_problem(self) -> tuple[str, str] | None:
        if not (self.tenant_id or self.authority or self.token_url):
            return "tenant_id", "required (or give authority or token_url)"
        return None


class HubspotSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {"access_token": ("default",)}
    account_id: str = Field(pattern=r"^[0-9]+$")  # the Hub ID (portal id)
    external_screenpop_domain_hs: str = "app.hubspot.com"  # portal domain for Open in CRM
    api_base: str | None = None  # default https://api.hubapi.com
    api_version: str = Field(default="v3", pattern=r"^(v\d+|\d{4}-\d{2})$")  # or dated
    caller_types: list[str] = Field(default_factory=lambda: ["contacts"])
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)

    _api = field_validator("api_base")(_https_url)
    _types = field_validator("caller_types")(_names(check_object_type))


class ServicenowSettings(TypeSettings):
    # username and password are secrets for both auth methods (the password grant uses them)
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {
        "username": ("basic", "oauth"),
        "password": ("basic", "oauth"),
        "client_id": ("oauth",),
        "client_secret": ("oauth",),
    }
    instance: str  # {instance}.service-now.com
    auth: Literal["basic", "oauth"] = "basic"
    api_base: str | None = None  # default https://{instance}.service-now.com
    token_url: str | None = None  # default {api_base}/oauth_token.do
    api_version: Literal["", "v1", "v2"] = ""  # "": latest
    caller_tables: list[str] = Field(default_factory=lambda: ["sys_user"])
    related_tables: list[tuple[str, str]] | None = None  # [table, field pointing at the person]
    journal_tables: list[str] | None = None
    journal_field: str = "work_notes"
    timeline_table: str = "interaction"
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)

    _instance = field_validator("instance")(_host)
    _urls = field_validator("api_base", "token_url")(_https_url)
    _tables = field_validator("caller_tables", "journal_tables")(_names(check_table))

    @field_validator("related_tables")
    @classmethod
    def _related(cls, pairs: list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
        _names(check_table)([table for table, _ in pairs or ()])
        return pairs

    @field_validator("timeline_table")
    @classmethod
    def _timeline(cls, table: str) -> str:
        _names(check_table)([table])
        return table


class ZendeskSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {
        "client_id": ("oauth_client_credentials",),
        "client_secret": ("oauth_client_credentials",),
        "api_token": ("api_token",),
    }
    subdomain: str | None = None  # {subdomain}.zendesk.com (or give api_base)
    auth: Literal["oauth_client_credentials", "api_token"] = "oauth_client_credentials"
    api_base: str | None = None  # default https://{subdomain}.zendesk.com/api/v2
    token_url: str | None = None  # default https://{subdomain}.zendesk.com/oauth/tokens
    agent_url: str | None = None  # base of Open in CRM links
    scope: str = "read write"
    token_expires_in: int | None = Field(default=None, ge=300, le=172_800)
    email: str | None = None  # the agent an API token belongs to
    phone_fields: list[str] = Field(default_factory=list)  # extra user fields with phones
    timeline_ticket_status: str | None = None

    _subdomain = field_validator("subdomain")(lambda v: v if v is None else _host(v))
    _urls = field_validator("api_base", "token_url", "agent_url")(_https_url)

    def required_settings_problem(self) -> tuple[str, str] | None:
        if not self.subdomain and not self.api_base:
            return "subdomain", "required (or give api_base)"
        if self.auth == "api_token" and not self.email:
            return "email", "required when auth is api_token"
        return None


class KustomerSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {"api_key": ("default",)}
    org: str  # {org}.api.kustomerapp.com
    api_base: str | None = None  # default https://{org}.api.kustomerapp.com/v1
    app_url: str | None = None  # base of Open in CRM links (default https://{org}.kustomerapp.com)
    timeline_conversation_status: str = "done"

    _org = field_validator("org")(_host)
    _urls = field_validator("api_base", "app_url")(_https_url)


class OracleSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {
        "username": ("basic",),
        "password": ("basic",),
        "client_id": ("oauth",),
        "client_secret": ("oauth",),
    }
    site: str | None = None  # the site interface host, e.g. acme.custhelp.com
    auth: Literal["basic", "oauth"] = "basic"
    api_version: str = Field(default="v1.4", pattern=r"^v\d+(\.\d+)?$")
    api_base: str | None = None  # default https://{site}/services/rest/connect/{api_version}
    token_url: str | None = None  # the identity provider's token endpoint (oauth)
    scope: str | None = None
    application_context: str = Field(default="Customer Card for Teams", min_length=1, max_length=40)
    record_url_template: str | None = None  # e.g. https://agent.example/{collection}/{id}

    _site = field_validator("site")(_host_name)
    _urls = field_validator("api_base", "token_url")(_https_url)

    @field_validator("record_url_template")
    @classmethod
    def _template(cls, template: str | None) -> str | None:
        if template is not None:
            try:
                template.format(type="contact", collection="contacts", id="1")
            except (KeyError, IndexError, ValueError):
                raise ValueError(
                    "may only use the placeholders {type}, {collection} and {id}"
                ) from None
        return template

    def required_settings_problem(self) -> tuple[str, str] | None:
        if not self.site and not self.api_base:
            return "site", "required (or give api_base)"
        if self.auth == "oauth" and not self.token_url:
            return "token_url", "required when auth is oauth"
        return None


SETTINGS_SCHEMAS: dict[str, type[TypeSettings]] = {
    "demo": DemoSettings,
    "salesforce": SalesforceSettings,
    "dynamics": DynamicsSettings,
    "hubspot": HubspotSettings,
    "servicenow": ServicenowSettings,
    "zendesk": ZendeskSettings,
    "kustomer": KustomerSettings,
    "oracle": OracleSettings,
}


def settings_schema(integration_type: str) -> type[TypeSettings]:
    """The settings model of an integration type (``ConfigError`` for an unknown type)."""
    if integration_type not in INTEGRATION_TYPES:
        raise ConfigError(
            f"type: unknown integration type '{integration_type}'; choose one of: "
            f"{', '.join(INTEGRATION_TYPES)}",
            code="unknown_type",
            field="type",
        )
    return SETTINGS_SCHEMAS.get(integration_type, _GenericSettings)


def validate_settings(integration_type: str, settings: dict[str, Any]) -> TypeSettings:
    """The type's settings model, or a ``ConfigError`` naming ``settings.<field>``."""
    schema = settings_schema(integration_type)
    try:
        parsed = schema.model_validate(settings)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # a misspelt setting explains the "required" error of the name it was meant to be:
        # report unknown names before missing ones
        first = sorted(errors, key=lambda e: e["type"] == "missing")[0]
        name = error_field(first, settings)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            known = ", ".join(schema.model_fields)
            message = f"not a {integration_type} setting; known settings: {known}"
            if name in (schema.SECRETS or {}):
                message = (
                    f"{integration_type} takes '{name}' as a secret, not a setting: "
                    f"give it under secrets; known settings: {known}"
                )
        raise ConfigError(
            f"settings.{name}: {message}", code="invalid_setting", field=f"settings.{name}"
        ) from None
    problem = parsed.required_settings_problem()
    if problem is not None:
        raise ConfigError(
            f"settings.{problem[0]}: {problem[1]}",
            code="invalid_setting",
            field=f"settings.{problem[0]}",
        )
    return parsed


def check_secret_names(integration_type: str, settings: TypeSettings, names: set[str]) -> None:
    """Every secret name is one the type knows, and the auth method's secrets are all set."""
    allowed = type(settings).SECRETS
    if allowed is None:
        return
    for name in sorted(names):
        if name not in allowed:
            known = ", ".join(allowed) or "none"
            hint = " (it is a setting)" if name in type(settings).model_fields else ""
            raise ConfigError(
                f"secrets.{name}: {integration_type} takes no secret '{name}'{hint}; "
                f"it takes: {known}",
                code="invalid_secret",
                field=f"secrets.{name}",
            )
    for name in sorted(settings.required_secrets() - names):
        raise ConfigError(
            f"secrets.{name}: required for {integration_type} with auth '{settings.auth_method()}'",
            code="missing_secret",
            field=f"secrets.{name}",
        )


# --- configurations --------------------------------------------------------------------

SecretValue = str | dict[str, str]


def _checked_steps(steps: list[StartupStep] | None) -> list[StartupStep] | None:
    if steps is not None:
        try:
            check_startup_steps(steps)
        except InputError as exc:
            raise ValueError(exc.detail) from None
    return steps


class ConfigurationInput(_Model):
    """Create (POST) or replace (PUT) a configuration. Secrets not given keep their stored
    value on PUT; a secret set to ``null`` is removed."""

    id: str | None = Field(default=None, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    type: str
    status: Status = "active"
    is_default: bool = Field(default=False, alias="isDefault")
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, SecretValue | None] = Field(default_factory=dict)
    startup: list[StartupStep] | None = None  # None: the built-in default

    _steps = field_validator("startup")(_checked_steps)


class ConfigurationPatch(_Model):
    """Change some attributes (PATCH); absent attributes stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    status: Status | None = None
    is_default: bool | None = Field(default=None, alias="isDefault")
    settings: dict[str, Any] | None = None  # replaces the settings as a whole
    secrets: dict[str, SecretValue | None] | None = None  # merged: given names only
    startup: list[StartupStep] | None = None

    _steps = field_validator("startup")(_checked_steps)


class Configuration(_Model):
    """A configuration as the API shows it: secrets only as set/kind/reference."""

    id: str
    name: str
    description: str = ""
    type: str
    type_name: str = Field(alias="typeName")
    status: Status
    is_default: bool = Field(alias="isDefault")
    settings: dict[str, Any]
    secrets: dict[str, SecretStatus]
    startup: list[StartupStep] | None = None
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")


# --- mappings --------------------------------------------------------------------------


class MemorializationMappingInput(MemorializationMapping):
    """A memorialization mapping as created or replaced through the API."""

    id: str = Field(default="", pattern=r"^$|" + ID_PATTERN[1:])
    status: Status = "active"

    @field_validator("record_types")
    @classmethod
    def _distinct(cls, record_types: list[Any]) -> list[Any]:
        if not record_types:
            raise ValueError("name at least one record type")
        seen: set[str] = set()
        for mapping in record_types:
            key = mapping.record_type.lower()
            if key in seen:
                raise ValueError(f"record type '{mapping.record_type}' is listed twice")
            seen.add(key)
            targets = [rule.crm_field for rule in mapping.fields]
            doubled = sorted({t for t in targets if targets.count(t) > 1})
            if doubled:
                raise ValueError(f"{mapping.record_type}: field '{doubled[0]}' is mapped twice")
        return record_types


MAX_TEXT_FIELDS = 5
MAX_OTHER_FIELDS = 3


class DynamicRecordType(_Model):
    record_type: str = Field(alias="recordType", min_length=1)
    # in display order; types are checked against the CRM's metadata (5 text + 3 other)
    fields: list[str] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _fields(cls, fields: list[str]) -> list[str]:
        doubled = sorted({f for f in fields if fields.count(f) > 1})
        if doubled:
            raise ValueError(f"field '{doubled[0]}' is listed twice")
        if len(fields) > MAX_TEXT_FIELDS + MAX_OTHER_FIELDS:
            raise ValueError(
                f"{len(fields)} fields chosen; the card shows at most {MAX_TEXT_FIELDS} text "
                f"fields and {MAX_OTHER_FIELDS} fields of other types"
            )
        return fields


class DynamicDataMapping(_Model):
    """Which CRM fields the card, search results and message extension show per record type."""

    id: str = Field(default="", pattern=r"^$|" + ID_PATTERN[1:])
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    status: Status = "active"
    record_types: list[DynamicRecordType] = Field(alias="recordTypes", min_length=1)

    @field_validator("record_types")
    @classmethod
    def _distinct(cls, record_types: list[DynamicRecordType]) -> list[DynamicRecordType]:
        seen: set[str] = set()
        for item in record_types:
            if item.record_type.lower() in seen:
                raise ValueError(f"record type '{item.record_type}' is listed twice")
            seen.add(item.record_type.lower())
        return record_types

    def fields_for(self, record_type: str) -> list[str] | None:
        wanted = record_type.lower()
        return next(
            (item.fields for item in self.record_types if item.record_type.lower() == wanted), None
        )


# --- workflows -------------------------------------------------------------------------


class SearchColumn(_Model):
    """One condition of a dynamic search; ``value`` may reference interaction data."""

    field: str = Field(min_length=1)
    operator: Literal["equals", "notequals"] = "equals"
    value: str


class SearchCriteria(_Model):
    """A dynamic search over one record type: columns joined by ``condition``."""

    record_type: str = Field(alias="recordType", min_length=1)
    columns: list[SearchColumn] = Field(min_length=1)
    condition: Literal["and", "or"] = "and"


class _Workflow(_Model):
    id: str = Field(default="", pattern=r"^$|" + ID_PATTERN[1:])
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    status: Status = "active"


class SearchWorkflow(_Workflow):
    kind: Literal["search"] = "search"
    by: Literal["phone", "email", "dynamic"]
    record_types: list[str] | None = Field(default=None, alias="recordTypes")
    criteria: list[SearchCriteria] = Field(default_factory=list)  # dynamic: default criteria
    limit: int = Field(default=25, ge=1, le=100)


class CreateWorkflow(_Workflow):
    kind: Literal["create"] = "create"
    mode: Literal["standard", "custom"]
    record_type: str | None = Field(default=None, alias="recordType")  # default type
    fields: dict[str, str] = Field(default_factory=dict)  # default values (templates)


class UpdateWorkflow(_Workflow):
    kind: Literal["update"] = "update"
    record_type: str | None = Field(default=None, alias="recordType")


class TimelineWorkflow(_Workflow):
    kind: Literal["timeline"] = "timeline"
    subject: str = "{Direction} {Media Type} interaction {Interaction ID}"


class MemorializationWorkflow(_Workflow):
    kind: Literal["memorialization"] = "memorialization"
    mapping_id: str | None = Field(default=None, alias="mappingId")  # None: the first active


Workflow = Annotated[
    SearchWorkflow | CreateWorkflow | UpdateWorkflow | TimelineWorkflow | MemorializationWorkflow,
    Field(discriminator="kind"),
]

# our kind -> the anchor's ``workflowAction``
WORKFLOW_ACTIONS: dict[str, str] = {
    "search": "Search",
    "create": "Create",
    "update": "Update",
    "timeline": "Timeline",
    "memorialization": "DataMemorialization",
}


def workflow_action(
    workflow: SearchWorkflow
    | CreateWorkflow
    | UpdateWorkflow
    | TimelineWorkflow
    | MemorializationWorkflow,
) -> str:
    """The anchor's ``workflowAction`` name of a workflow."""
    return WORKFLOW_ACTIONS[workflow.kind]
