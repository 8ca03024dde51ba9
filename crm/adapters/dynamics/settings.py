"""A Dynamics 365 (Dataverse) configuration's settings: the one model the configuration API
validates with and the adapter is built from."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from ...settings import TypeSettings, checked_names, http_url
from .query import check_logical_name

__all__ = ["DynamicsSettings"]


def _logical_name(name: str | None) -> str | None:
    return None if name is None else (checked_names(check_logical_name)([name]) or [name])[0]


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

    _urls = field_validator("org_url", "api_base", "authority", "token_url")(http_url)
    _types = field_validator("caller_record_types")(checked_names(check_logical_name))
    _key = field_validator("timeline_key_field")(_logical_name)

    def required_settings_problem(self) -> tuple[str, str] | None:
        if not (self.tenant_id or self.authority or self.token_url):
            return "tenant_id", "required (or give authority or token_url)"
        return None

    @property
    def effective_api_base(self) -> str:
        return self.api_base or f"{self.org_url}/api/data/v{self.api_version.lstrip('v')}"

    @property
    def effective_authority(self) -> str:
        return self.authority or f"https://login.microsoftonline.com/{self.tenant_id}"

    @property
    def effective_scope(self) -> str:
        return self.scope or f"{self.org_url}/.default"
