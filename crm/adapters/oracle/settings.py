"""An Oracle B2C Service configuration's settings: the one model the configuration API
validates with and the adapter is built from."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from ...settings import TypeSettings, host_name, http_url

__all__ = ["OracleSettings"]


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

    _site = field_validator("site")(host_name)
    _urls = field_validator("api_base", "token_url")(http_url)

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
