"""Oracle B2C Service's API session: Basic or OAuth auth, the CREST headers and pauses, and error
translation."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Mapping
from typing import Any

import httpx

from ...errors import (
    ConfigError,
    CrmRateLimitedError,
)
from ...http import (
    json_or_raise,
    observe_response,
    read_token_reply,
    retry_once_on_401,
    safe_text,
    translate_transport_errors,
)
from ...models import (
    CrmSystem,
)
from ...registry import AdapterContext
from ...tokens import TokenManager, authorization
from .settings import OracleSettings
from .wire import (
    _ACCESS_TOKEN,
    _MAX_WAIT_INLINE,
    QUOTA_HEADERS,
    VENDOR,
    error_for_response,
    throttle_wait,
)

__all__ = ["OracleConnection"]


class OracleConnection:
    """An Oracle B2C Service site as the adapter reaches it: Basic or OAuth auth, the CREST
    headers and session token, pauses asked for by the site, errors translated."""

    def __init__(self, context: AdapterContext, settings: OracleSettings) -> None:
        secrets = context.secrets
        site = settings.site or ""
        self._api = (
            settings.api_base or f"https://{site}/services/rest/connect/{settings.api_version}"
        )
        self._url_template = settings.record_url_template or ""
        self._app_context = settings.application_context
        self._http = context.http
        self._region = context.default_phone_region
        base = f"https://{site}" if site else self._api
        self._system = CrmSystem(type="oracle", label=context.label, base_url=base)
        self._access_token: str | None = None
        self._not_before = 0.0
        self._basic: str | None = None
        self._tokens: TokenManager | None = None
        if settings.auth == "basic":
            if not secrets.get("username") or not secrets.get("password"):
                raise ConfigError("Oracle Basic auth needs username and password", field="username")
            raw = f"{secrets['username']}:{secrets['password']}".encode()
            self._basic = "Basic " + base64.b64encode(raw).decode()
        else:
            if not secrets.get("client_id") or not secrets.get("client_secret"):
                raise ConfigError(
                    "Oracle OAuth needs client_id and client_secret", field="client_id"
                )
            self._token_url = str(settings.token_url)
            self._scope = settings.scope or ""
            self._client = (secrets["client_id"], secrets["client_secret"])
            self._tokens = TokenManager(
                self._mint_token, on_refresh=context.extra.get("on_token_refresh")
            )

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- auth and transport ----------------------------------------------------------

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        async with translate_transport_errors(VENDOR):
            response = await self._http.post(self._token_url, data=form, auth=self._client)
        return read_token_reply(
            response,
            refused="The identity provider did not issue an access token",
            message=safe_text(response.text),
            error=error_for_response(response),
        )

    async def _authorization(self) -> str:
        return await authorization(self._tokens, self._basic)

    async def _respect_pause(self) -> None:
        """Honour the last ``osvc-crest-next-request-after``: wait briefly or fail fast."""
        remaining = self._not_before - time.monotonic()
        if remaining <= 0:
            return
        if remaining > _MAX_WAIT_INLINE:
            raise CrmRateLimitedError(
                "Oracle B2C Service asked to pause requests", retry_after=remaining
            )
        await asyncio.sleep(remaining)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        url: str | None = None,
    ) -> Any:
        async def send() -> tuple[httpx.Response, str | None]:
            await self._respect_pause()
            header = await self._authorization()
            headers = {
                "Authorization": header,
                "Accept": "application/json",
                "OSvC-CREST-Application-Context": self._app_context,
            }
            if self._access_token:
                headers[_ACCESS_TOKEN] = self._access_token
            async with translate_transport_errors(VENDOR):
                response = await self._http.request(
                    method, url or f"{self._api}/{path}", params=params, json=json, headers=headers
                )
            observe_response(QUOTA_HEADERS, response)
            self._access_token = response.headers.get(_ACCESS_TOKEN, self._access_token)
            wait = throttle_wait(response)
            if wait:
                self._not_before = time.monotonic() + wait
            token = header.removeprefix("Bearer ") if self._tokens is not None else None
            return response, token

        tokens = self._tokens
        response = await retry_once_on_401(send, tokens.invalidate if tokens else None)
        return json_or_raise(response, error_for_response(response))
