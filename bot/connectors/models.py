"""What a platform connector is made of, defined once: each platform's settings and secret
names, the admin API's body and answer, and a translated platform event.

The admin API, ``customer-card config apply`` (its ``connectors:`` section) and the admin
console all go through :class:`~bot.connectors.store.ConnectorStore`, which validates
against these models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm.errors import InputError
from crm.secrets import SecretStatus

from ..interactions.events import InteractionEvent

__all__ = [
    "Platform",
    "PLATFORMS",
    "PLATFORM_LABELS",
    "SETTINGS_MODELS",
    "TwilioSettings",
    "AmazonConnectSettings",
    "CxoneSettings",
    "GenesysSettings",
    "ConnectorInput",
    "Connector",
    "ConnectorList",
    "AgentTable",
    "PlatformEvent",
    "platform_event",
    "required_secrets",
    "allowed_secrets",
    "secret_names",
]

Platform = Literal["twilio", "amazon-connect", "nice-cxone", "genesys-cloud"]
PLATFORMS: tuple[str, ...] = Platform.__args__  # type: ignore[attr-defined]
PLATFORM_LABELS = {
    "twilio": "Twilio Flex / TaskRouter",
    "amazon-connect": "Amazon Connect",
    "nice-cxone": "NICE CXone",
    "genesys-cloud": "Genesys Cloud",
}


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TwilioSettings(_Settings):
    """TaskRouter's Workspace ``EventCallbackUrl`` posts here; the auth token signs it."""

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    workspace_sid: str | None = Field(default=None, pattern=r"^WS[0-9a-fA-F]{32}$")
    # the URL exactly as configured in the Workspace (it is signed); default: the public
    # URL of this service + /api/v1/connectors/twilio/taskrouter
    callback_url: str | None = None
    # the worker attribute holding the agent's Teams email/UPN (Flex sets "email")
    email_attribute: str = "email"


class AmazonConnectSettings(_Settings):
    """Contact events arrive from an EventBridge rule through an API destination."""

    instance_arn: str = Field(pattern=r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/.+$")
    # the API destination's connection authorization: "api_key" (header name + value),
    # "basic" (username + password) or "oauth" (client credentials; this service is the
    # authorization endpoint: POST /api/v1/connectors/amazon-connect/oauth/token)
    auth: Literal["api_key", "basic", "oauth"] = "api_key"
    api_key_header: str = "x-api-key"
    # the Amazon Connect API (DescribeContact, GetContactAttributes, DescribeUser), used
    # when aws_access_key_id / aws_secret_access_key are set; default from the region
    api_base: str | None = None
    # contact attributes (set by the contact flow, or by the agent's desktop in after-call
    # work) that carry the caller's number, the disposition and the agent's notes
    ani_attribute: str = "customerNumber"
    disposition_attribute: str = "disposition"
    notes_attribute: str = "dispositionNotes"


class CxoneSettings(_Settings):
    """Studio scripts call the workflow-execute endpoint with a bearer token."""

    # the disposition of a data memorialization call also ends the interaction
    end_on_memorialization: bool = True


class GenesysSettings(_Settings):
    """The service subscribes to the Notification API over a WebSocket."""

    region: str = "mypurecloud.com"  # the org's region domain (api.<region>, login.<region>)
    api_base: str | None = None  # default https://api.<region>
    login_base: str | None = None  # default https://login.<region>
    topics: Literal["users", "queues"] = "users"
    ids: list[str] = Field(default_factory=list, max_length=1000)  # user or queue ids
    # Genesys sends a heartbeat every 30 s: a channel silent this long is reopened
    heartbeat_timeout: float = Field(default=90, gt=0, le=3600)


SETTINGS_MODELS: dict[str, type[_Settings]] = {
    "twilio": TwilioSettings,
    "amazon-connect": AmazonConnectSettings,
    "nice-cxone": CxoneSettings,
    "genesys-cloud": GenesysSettings,
}

_SECRETS: dict[str, tuple[set[str], set[str]]] = {  # platform -> (required, optional)
    "twilio": ({"auth_token"}, set()),
    "nice-cxone": ({"api_key"}, set()),
    "genesys-cloud": ({"client_id", "client_secret"}, set()),
}


def required_secrets(platform: str, settings: BaseModel) -> set[str]:
    """The secrets ``platform`` cannot work without (with these settings)."""
    if isinstance(settings, AmazonConnectSettings):
        return {
            "api_key": {"api_key"},
            "basic": {"username", "password"},
            "oauth": {"client_id", "client_secret"},
        }[settings.auth]
    return set(_SECRETS[platform][0])


def allowed_secrets(platform: str, settings: BaseModel) -> set[str]:
    if isinstance(settings, AmazonConnectSettings):
        return required_secrets(platform, settings) | {
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
        }
    required, optional = _SECRETS[platform]
    return required | optional


def secret_names(platform: str) -> list[str]:
    """Every secret ``platform`` may take, whatever its settings (a form lists them all)."""
    if platform == "amazon-connect":
        modes: tuple[Literal["api_key", "basic", "oauth"], ...] = ("api_key", "basic", "oauth")
        names: set[str] = set()
        for mode in modes:
            settings = AmazonConnectSettings.model_construct(instance_arn="", auth=mode)
            names |= allowed_secrets(platform, settings)
        order = ["api_key", "username", "password", "client_id", "client_secret"]
        return order + sorted(names - set(order))
    required, optional = _SECRETS[platform]
    return sorted(required) + sorted(optional)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ConnectorInput(_Model):
    """``PUT /api/v1/connectors/{platform}`` and an entry of ``connectors:`` in a file.
    Secrets not named keep their stored value; ``null`` removes one. ``agents`` maps a
    platform agent id to the Teams user's email/UPN (absent: the table is kept)."""

    platform: Platform | None = None
    status: Literal["active", "inactive"] = "active"
    configuration_id: str | None = Field(default=None, alias="configurationId", max_length=64)
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str | dict[str, str] | None] = Field(default_factory=dict)
    agents: dict[str, str] | None = None


class AgentTable(_Model):
    """``PUT /api/v1/connectors/{platform}/agents``: platform agent id -> the Teams user's
    email/UPN (name@domain) or AAD object id (a GUID)."""

    agents: dict[str, str]


class Connector(_Model):
    """A connector as the API shows it: secrets only as set/kind/reference."""

    platform: str
    name: str
    status: str
    configuration_id: str | None = Field(default=None, alias="configurationId")
    settings: dict[str, Any]
    secrets: dict[str, SecretStatus]
    agents: dict[str, str]
    endpoint: str
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")


class ConnectorList(_Model):
    connectors: list[Connector]
    total_records: int = Field(alias="totalRecords")


@dataclass(frozen=True)
class PlatformEvent:
    """One platform event translated: its id on the platform (what makes a retried
    delivery a duplicate) and the interaction event it becomes."""

    platform_event_id: str
    event: InteractionEvent


def platform_event(event_id: str, body: dict[str, Any]) -> PlatformEvent:
    """A translated event: ``body`` (the events API's JSON; None members left out) as an
    interaction event. A platform value that does not fit (an id too long, say) is a 400
    naming the interaction event's field, never an internal error."""
    try:
        event = InteractionEvent.model_validate(
            {key: value for key, value in body.items() if value is not None}
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"The platform's event does not fit an interaction event: {where}: {first['msg']}",
            code="invalid_field",
            field=where,
        ) from None
    return PlatformEvent(event_id, event)
