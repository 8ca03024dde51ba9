"""A ServiceNow configuration's settings: the one model the configuration API validates with
and the adapter is built from."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from ...settings import TypeSettings, checked_names, host_label, http_url
from .query import check_table

__all__ = ["ServiceNowSettings"]

# tables whose records take journal entries (work notes) when none are configured
_JOURNAL_TABLES = frozenset(
    {
        "incident",
        "sn_customerservice_case",
        "problem",
        "change_request",
        "interaction",
        "task",
        "sc_req_item",
        "sc_task",
        "hr_case",
    }
)


class ServiceNowSettings(TypeSettings):
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

    _instance = field_validator("instance")(host_label)
    _urls = field_validator("api_base", "token_url")(http_url)
    _tables = field_validator("caller_tables", "journal_tables")(checked_names(check_table))

    @field_validator("related_tables")
    @classmethod
    def _related(cls, pairs: list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
        checked_names(check_table)([table for table, _ in pairs or ()])
        return pairs

    @field_validator("timeline_table")
    @classmethod
    def _timeline(cls, table: str) -> str:
        checked_names(check_table)([table])
        return table

    @property
    def ui_base(self) -> str:
        return f"https://{self.instance.lower()}.service-now.com"

    @property
    def api_root(self) -> str:
        return self.api_base or self.ui_base

    @property
    def effective_token_url(self) -> str:
        return self.token_url or f"{self.api_root}/oauth_token.do"

    @property
    def related(self) -> tuple[tuple[str, str], ...]:
        """(table, field pointing at the person) listed as the person's related records."""
        if self.related_tables is None:
            return (("incident", "caller_id"),)
        return tuple((table, field) for table, field in self.related_tables)

    @property
    def journals(self) -> frozenset[str]:
        if self.journal_tables is None:
            return _JOURNAL_TABLES
        return frozenset(self.journal_tables)

    @property
    def timeout(self) -> float:
        return self.timeout_seconds or 10.0
