"""Zendesk's API session: OAuth client credentials or an API token, transport and error
translation."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from ...errors import (
    ConfigError,
)
from ...http import (
    json_or_raise,
    observe_response,
    read_token_reply,
    retry_once_on_401,
    translate_transport_errors,
)
from ...models import (
    CrmSystem,
)
from ...registry import AdapterContext
from ...tokens import TokenManager, authorization
from .settings import ZendeskSettings
from .wire import API_TOKEN_SUNSET, QUOTA_HEADERS, VENDOR, error_for_response, vendor_message

__all__ = ["ZendeskConnection"]

log = logging.getLogger(__name__)


class ZendeskConnection:
    """A Zendesk account as the adapter reaches it: OAuth client credentials or an API token
    (deprecated), calls with one retry on an expired token, errors translated."""

    def __init__(self, context: AdapterContext, settings: ZendeskSettings) -> None:
        host = f"https://{settings.subdomain or ''}.zendesk.com"
        self._api = settings.api_base or f"{host}/api/v2"
        self._token_url = settings.token_url or f"{host}/oauth/tokens"
        self._ui = settings.agent_url or host
        self._http = context.http
        self._region = context.default_phone_region
        self._phone_fields = ["phone", *settings.phone_fields]
        self._ticket_status = settings.timeline_ticket_status
        self._system = CrmSystem(type="zendesk", label=context.label, base_url=self._ui)
        self._secrets = context.secrets
        self._settings = settings
        self._basic: str | None = None
        self._field_names: dict[str, set[str]] = {}
        self._tokens: TokenManager | None = None
        if settings.auth == "api_token":
            self._basic = self._basic_credentials()
            log.warning(
                "Zendesk configuration %s uses an API token; Zendesk stops accepting API "
                "tokens on %s: switch to OAuth client credentials",
                context.configuration_id,
                API_TOKEN_SUNSET,
            )
        else:
            for name in ("client_id", "client_secret"):
                if not self._secrets.get(name):
                    raise ConfigError(f"Zendesk OAuth needs the secret {name}", field=name)
            self._tokens = TokenManager(
                self._mint_token, on_refresh=context.extra.get("on_token_refresh")
            )

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- auth and transport ----------------------------------------------------------

    def _basic_credentials(self) -> str:
        email, token = self._settings.email, self._secrets.get("api_token")
        if not email or not token:
            raise ConfigError("Zendesk API-token auth needs email and api_token", field="email")
        raw = f"{email}/token:{token}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        body: dict[str, Any] = {
            "grant_type": "client_credentials",
            "client_id": self._secrets["client_id"],
            "client_secret": self._secrets["client_secret"],
            "scope": self._settings.scope,
        }
        if self._settings.token_expires_in:
            body["expires_in"] = self._settings.token_expires_in
        async with translate_transport_errors(VENDOR):
            response = await self._http.post(self._token_url, json=body)
        return read_token_reply(
            response,
            refused="Zendesk did not issue an access token",
            message=vendor_message(response),
            error=error_for_response(response),
        )

    async def _authorization(self) -> str:
        return await authorization(self._tokens, self._basic)

    async def _call(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        """One API call; on a 401 with an OAuth token, mint a new token and retry once."""

        async def send() -> tuple[httpx.Response, str | None]:
            header = await self._authorization()
            async with translate_transport_errors(VENDOR):
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={"Authorization": header, "Accept": "application/json"},
                )
            observe_response(QUOTA_HEADERS, response)
            token = header.removeprefix("Bearer ") if self._tokens is not None else None
            return response, token

        tokens = self._tokens
        response = await retry_once_on_401(send, tokens.invalidate if tokens else None)
        return json_or_raise(response, error_for_response(response))

    def _url(self, path: str) -> str:
        return f"{self._api}/{path.lstrip('/')}"
