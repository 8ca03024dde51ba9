"""A Salesforce configuration's settings: the one model the configuration API validates
with and the adapter is built from."""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ...settings import TypeSettings, checked_names, http_url
from .query import check_api_name

__all__ = ["SalesforceSettings"]


def _api_name(name: str | None) -> str | None:
    return None if name is None else (checked_names(check_api_name)([name]) or [name])[0]


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

    _urls = field_validator("login_url", "token_url", "instance_url", "lightning_url")(http_url)
    _types = field_validator("caller_record_types")(checked_names(check_api_name))
    _key = field_validator("timeline_key_field")(_api_name)

    def required_settings_problem(self) -> tuple[str, str] | None:
        if self.auth == "jwt_bearer" and not self.username:
            return "username", "required when auth is jwt_bearer"
        return None

    @property
    def version(self) -> str:
        """``62.0`` (the path segment is ``v62.0``)."""
        return self.api_version.lstrip("v")

    @property
    def effective_token_url(self) -> str:
        return self.token_url or f"{self.login_url}/services/oauth2/token"

    @property
    def effective_audience(self) -> str:
        if self.jwt_audience:
            return self.jwt_audience
        host = urlsplit(self.login_url).hostname or ""
        sandbox = host == "test.salesforce.com" or ".sandbox." in host
        return "https://test.salesforce.com" if sandbox else "https://login.salesforce.com"
