"""A Zendesk configuration's settings: the one model the configuration API validates with
and the adapter is built from."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from ...settings import TypeSettings, host_label, http_url

__all__ = ["ZendeskSettings"]


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
    # Zendesk: access tokens live more than 300 s and at most 172,800 s (2 days)
    token_expires_in: int | None = Field(default=None, gt=300, le=172_800)
    email: str | None = None  # the agent an API token belongs to
    phone_fields: list[str] = Field(default_factory=list)  # extra user fields with phones
    # Zendesk's ticket statuses (a new ticket cannot be created closed)
    timeline_ticket_status: Literal["new", "open", "pending", "hold", "solved"] | None = None

    _subdomain = field_validator("subdomain")(host_label)
    _urls = field_validator("api_base", "token_url", "agent_url")(http_url)

    def required_settings_problem(self) -> tuple[str, str] | None:
        if not self.subdomain and not self.api_base:
            return "subdomain", "required (or give api_base)"
        if self.auth == "api_token" and not self.email:
            return "email", "required when auth is api_token"
        return None
