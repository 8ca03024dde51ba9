"""A Kustomer configuration's settings: the one model the configuration API validates with
and the adapter is built from."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import field_validator

from ...settings import TypeSettings, host_label, http_url

__all__ = ["KustomerSettings"]


class KustomerSettings(TypeSettings):
    SECRETS: ClassVar[dict[str, tuple[str, ...]] | None] = {"api_key": ("default",)}
    org: str  # {org}.api.kustomerapp.com
    api_base: str | None = None  # default https://{org}.api.kustomerapp.com/v1
    app_url: str | None = None  # base of Open in CRM links (default https://{org}.kustomerapp.com)
    # Kustomer's conversation statuses
    timeline_conversation_status: Literal["open", "snoozed", "done"] = "done"

    _org = field_validator("org")(host_label)
    _urls = field_validator("api_base", "app_url")(http_url)
