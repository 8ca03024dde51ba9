"""Service settings: environment variables (prefix ``CUSTOMER_CARD_``) and an optional ``.env``.

Every setting is listed in the README's settings table; keep the two in step.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["Settings"]


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# The async drivers the service ships with (pyproject.toml): one per supported database.
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def _with_password(url: str, password: str) -> str:
    """``url`` with ``password`` set (SQLAlchemy encodes it); ``url`` itself without one."""
    if not password:
        return url
    return make_url(url).set(password=password).render_as_string(hide_password=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CUSTOMER_CARD_", env_file=".env", extra="ignore", frozen=True
    )

    # --- where things live ---
    data_dir: Path = Path("data")
    database_url: str = ""  # default: sqlite+aiosqlite under data_dir
    # Put into database_url as given (URL-encoded here): a password with @ : / # % works.
    database_password: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: int = 3978
    public_url: str = ""  # https base URL Teams reaches us at (for links in cards)

    # --- Bot Framework / Teams ---
    app_id: str = ""  # Microsoft App ID; empty: anonymous Emulator mode (development only)
    app_password: SecretStr = SecretStr("")
    app_tenant_id: str = ""
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "SingleTenant"
    tenant_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    validate_service_url: bool = True  # service-URL host check (on only with an app id)
    dev_mode: bool | None = None  # simulate commands; default: on when app_id is empty

    # --- HTTP API ---
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    admin_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    metrics_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 256 * 1024

    # --- admin console: Microsoft (Entra ID) sign-in, OpenID Connect (docs/admin-console.md) ---
    console_oidc_authority: str = ""  # https://login.microsoftonline.com/{tenant}/v2.0
    console_oidc_client_id: str = ""
    console_oidc_client_secret: SecretStr = SecretStr("")
    console_admin_groups: Annotated[list[str], NoDecode] = Field(default_factory=list)
    console_admin_roles: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- CRM ---
    default_phone_region: str = "DE"
    secret_key: SecretStr = SecretStr("")  # Fernet key for secrets at rest; default: data_dir
    crm_timeout_seconds: float = 10.0
    demo_crm_url: str = ""  # demo CRM database; default: sqlite under data_dir

    # --- the card in Teams (see docs/operations.md, "Bot Connector") ---
    # the first card waits this long for a match's related records; a card's PUTs are at
    # least this far apart (the changes in between coalesce)
    card_window_ms: float = Field(default=250.0, ge=0, le=5000)
    # Bot Connector calls per second and tenant this process allows itself (Teams: about 50
    # per app; split among `serve --workers`; lower it when several replicas serve a tenant)
    connector_tenant_rate: int = Field(default=50, ge=1, le=1000)

    # --- memorialization (durable CRM writer; see docs/memorialization.md) ---
    memorialization_max_attempts: int = 12
    memorialization_backoff_base_seconds: float = 5.0
    memorialization_backoff_max_seconds: float = 900.0
    memorialization_lease_seconds: float = 60.0
    memorialization_rate_per_second: float = 5.0  # CRM calls per configuration and process
    memorialization_burst: int = 10
    memorialization_concurrency: int = 32
    memorialization_grace_seconds: float = 10.0

    # --- operations ---
    log_format: Literal["json", "text"] = "text"
    log_level: str = "INFO"
    workers: int = Field(default=1, ge=1)  # serve: processes sharing the port (bot.workers)

    @field_validator(
        "tenant_allowlist",
        "api_keys",
        "admin_api_keys",
        "metrics_api_keys",
        "console_admin_groups",
        "console_admin_roles",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("database_url", "demo_crm_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value:
            return value
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            raise ValueError("not a database URL") from None
        if driver not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"driver {driver!r} is not supported; use {' or '.join(SUPPORTED_DRIVERS)}"
            )
        return value

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return _with_password(self.database_url, self.database_password.get_secret_value())
        return f"sqlite+aiosqlite:///{(self.data_dir / 'customer-card.db').resolve()}"

    @cached_property
    def effective_demo_crm_url(self) -> str:
        if self.demo_crm_url:
            return self.demo_crm_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'demo-crm.db').resolve()}"

    @property
    def effective_public_url(self) -> str:
        """Where people reach this service: ``public_url``, else localhost on the served port."""
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def demo_crm_links(self) -> str:
        """Base of the demo CRM's Open in CRM links (its pages are served by this service)."""
        return f"{self.effective_public_url}/demo-crm"

    @property
    def anonymous(self) -> bool:
        """No app id: the Bot Framework endpoint accepts unauthenticated Emulator traffic."""
        return not self.app_id

    @property
    def console_oidc(self) -> bool:
        """Microsoft sign-in to the console is configured (and admits someone)."""
        return bool(
            self.console_oidc_authority
            and self.console_oidc_client_id
            and (self.console_admin_groups or self.console_admin_roles)
        )

    @property
    def development(self) -> bool:
        return self.anonymous if self.dev_mode is None else self.dev_mode
