"""The integration model an admin works with: CRM configurations, mappings and workflows.

JSON and YAML use the camelCase names shown in the aliases (as the commercial anchor's API
does); Python code uses snake_case. Shapes only: checks against a CRM's field metadata live
in :mod:`crm.validation`, secret storage in :mod:`crm.secrets`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import ConfigError, InputError
from .mappings import MemorializationMapping
from .registry import INTEGRATION_TYPES, settings_model
from .secrets import SecretStatus
from .settings import TypeSettings, parse_settings
from .startup import StartupStep, check_startup_steps

__all__ = [
    "Status",
    "TYPE_LABELS",
    "TypeSettings",
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


# --- per-type settings ----------------------------------------------------------------
#
# Each type's settings model lives with its adapter (crm/adapters/<vendor>/settings.py,
# crm/demo/settings.py) and is registered with the adapter's factory: the API validates
# with the model the adapter is built from.


def settings_schema(integration_type: str) -> type[TypeSettings]:
    """The settings model of an integration type (``ConfigError`` for an unknown type)."""
    if integration_type not in INTEGRATION_TYPES:
        raise ConfigError(
            f"type: unknown integration type '{integration_type}'; choose one of: "
            f"{', '.join(INTEGRATION_TYPES)}",
            code="unknown_type",
            field="type",
        )
    return settings_model(integration_type)


def validate_settings(integration_type: str, settings: dict[str, Any]) -> TypeSettings:
    """The type's settings model, or a ``ConfigError`` naming ``settings.<field>``."""
    return parse_settings(settings_schema(integration_type), integration_type, settings)


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
