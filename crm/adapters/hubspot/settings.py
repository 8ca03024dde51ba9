"""A HubSpot configuration's settings: the one model the configuration API validates with
and the adapter is built from."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from ...settings import TypeSettings, checked_names, http_url
from .query import check_object_type

__all__ = ["HubSpotSettings"]


class HubSpotSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {"access_token": ("default",)}
    account_id: str = Field(pattern=r"^[0-9]+$")  # the Hub ID (portal id)
    external_screenpop_domain_hs: str = "app.hubspot.com"  # portal domain for Open in CRM
    api_base: str | None = None  # default https://api.hubapi.com
    api_version: str = Field(default="v3", pattern=r"^(v\d+|\d{4}-\d{2})$")  # or dated
    caller_types: list[str] = Field(default_factory=lambda: ["contacts"])
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)

    _api = field_validator("api_base")(http_url)
    _types = field_validator("caller_types")(checked_names(check_object_type))

    @property
    def portal_domain(self) -> str:
        return self.external_screenpop_domain_hs.strip().removeprefix("https://").rstrip("/")

    @property
    def api_root(self) -> str:
        return self.api_base or "https://api.hubapi.com"

    @property
    def timeout(self) -> float:
        return self.timeout_seconds or 10.0
