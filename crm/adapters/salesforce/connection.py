"""Salesforce's API session: OAuth client credentials or JWT bearer tokens, the instance and
Lightning hosts, REST transport and error translation."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from ...errors import (
    ConfigError,
    CrmAuthError,
)
from ...http import (
    observe_response,
    retry_once_on_401,
    safe_text,
    translate_transport_errors,
)
from ...models import (
    CrmSystem,
)
from ...registry import AdapterContext
from ...tokens import TokenManager
from .settings import SalesforceSettings
from .wire import (
    QUOTA_HEADERS,
    VENDOR,
    _json,
    data_path,
    translate_error,
)

__all__ = ["SalesforceConnection"]

log = logging.getLogger(__name__)


class SalesforceConnection:
    """A Salesforce org as the adapter reaches it: OAuth tokens (client credentials or JWT
    bearer) kept fresh, the instance and Lightning hosts, REST calls with errors translated."""

    def __init__(self, context: AdapterContext, settings: SalesforceSettings) -> None:
        secret = "client_secret" if settings.auth == "client_credentials" else "private_key"
        if not context.secrets.get(secret):
            raise ConfigError(f"Salesforce {settings.auth} needs the {secret} secret", field=secret)
        self._settings = settings
        self._secret = context.secrets[secret]
        self._http = context.http
        self._label = context.label
        self._region = context.default_phone_region
        self._tokens = TokenManager(
            self._mint_token, on_refresh=context.extra.get("on_token_refresh")
        )
        self._describes: dict[str, dict[str, Any]] = {}
        self._timeline_lock = asyncio.Lock()
        self._tokens.warm_up("Salesforce")

    # --- protocol: identity and links ----------------------------------------------

    @property
    def system(self) -> CrmSystem:
        return CrmSystem(type="salesforce", label=self._label, base_url=self._ui_base())

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._ui_base()}/lightning/r/{record_type}/{record_id}/view"

    def _instance_url(self) -> str:
        token = self._tokens.current
        from_token = (token.extra or {}).get("instance_url", "") if token else ""
        return self._settings.instance_url or from_token or self._settings.login_url

    def _ui_base(self) -> str:
        if self._settings.lightning_url:
            return self._settings.lightning_url
        parts = urlsplit(self._instance_url())
        host = parts.hostname or ""
        if host.endswith(".my.salesforce.com"):
            host = host.removesuffix(".my.salesforce.com") + ".lightning.force.com"
            return f"https://{host}"
        return self._instance_url()

    # --- tokens -----------------------------------------------------------------------

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        s = self._settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": self._secret,
        }
        if s.auth == "jwt_bearer":
            claims = {
                "iss": s.client_id,
                "sub": s.username,
                "aud": s.effective_audience,
                "exp": int(time.time()) + 180,
            }
            try:
                assertion = jwt.encode(claims, self._secret, algorithm="RS256")
            except (ValueError, TypeError) as exc:
                raise CrmAuthError("The Salesforce private key could not sign the JWT") from exc
            form = {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            }
        async with translate_transport_errors(VENDOR):
            response = await self._http.post(
                s.effective_token_url, data=form, headers={"Accept": "application/json"}
            )
        body = _json(response)
        if response.status_code >= 500:
            raise translate_error(response.status_code, body, response.headers)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise CrmAuthError(
                f"{VENDOR} token request refused ({error or response.status_code})",
                vendor_status=response.status_code,
                vendor_message=safe_text(str(body.get("error_description", "")))
                if isinstance(body, dict)
                else None,
            )
        return str(body["access_token"]), None, {"instance_url": str(body.get("instance_url", ""))}

    # --- HTTP -------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):  # nextRecordsUrl and friends are host-relative
            return self._instance_url() + path
        return self._instance_url() + data_path(self._settings.version, path)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        self._tokens.warm_up("Salesforce")

        async def send() -> tuple[httpx.Response, str]:
            token = await self._tokens.get()
            headers = {"Authorization": f"Bearer {token.value}", "Accept": "application/json"}
            async with translate_transport_errors(VENDOR):
                response = await self._http.request(
                    method, self._url(path), params=params, json=json, headers=headers
                )
            observe_response(QUOTA_HEADERS, response)
            return response, token.value

        # INVALID_SESSION_ID: the session timed out; mint once and retry.
        response = await retry_once_on_401(send, self._tokens.invalidate)
        if response.status_code >= 300:
            raise translate_error(response.status_code, _json(response), response.headers)
        return response

    async def _get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return _json(await self._request("GET", path, params=params))

    async def _query(self, soql: str, limit: int) -> list[dict[str, Any]]:
        """Rows of a SOQL query, following ``nextRecordsUrl`` until ``limit`` rows."""
        body = await self._get_json("query", {"q": soql})
        rows = list(body.get("records") or [])
        while len(rows) < limit and not body.get("done", True) and body.get("nextRecordsUrl"):
            body = await self._get_json(str(body["nextRecordsUrl"]))
            rows.extend(body.get("records") or [])
        return rows[:limit]
