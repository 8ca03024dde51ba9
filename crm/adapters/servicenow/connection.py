"""ServiceNow's API session: Basic auth or OAuth (password grant with refresh), Table API
transport, paging and error translation."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ...errors import (
    CrmAuthError,
    CrmNotFoundError,
    CrmUnavailableError,
)
from ...http import (
    observe_response,
    retry_once_on_401,
    safe_text,
    translate_transport_errors,
)
from ...models import (
    CrmSystem,
    FieldInfo,
)
from ...tokens import TokenManager
from .query import (
    check_table,
)
from .settings import ServiceNowSettings
from .wire import (
    _MAX_CANDIDATE_PAGES,
    _MAX_PAGES,
    QUOTA_HEADERS,
    servicenow_error,
)

__all__ = ["ServiceNowConnection"]

log = logging.getLogger(__name__)


class ServiceNowConnection:
    """A ServiceNow instance as the adapter reaches it: Basic auth or OAuth (password grant,
    refresh token), Table API calls and paging, errors translated with secrets blanked."""

    def __init__(
        self,
        settings: ServiceNowSettings,
        secrets: Mapping[str, str],
        http: httpx.AsyncClient,
        *,
        label: str = "ServiceNow",
        default_region: str = "DE",
        refresh_margin: float = 300.0,
        on_token_refresh: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings
        self._secrets = dict(secrets)
        self._http = http
        self._region = default_region
        self._refresh_token: str | None = None
        self._tokens = TokenManager(
            self._mint_token, refresh_margin=refresh_margin, on_refresh=on_token_refresh
        )
        self._system = CrmSystem(type="servicenow", label=label, base_url=settings.ui_base)
        self._fields: dict[str, tuple[float, list[FieldInfo]]] = {}
        prefix = "/api/now" + (f"/{settings.api_version}" if settings.api_version else "")
        self._table_base = settings.api_root + prefix + "/table"

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- auth ---------------------------------------------------------------------------

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        """Refresh-token grant when a refresh token is held, else the password grant."""
        client = {
            "client_id": self._secrets.get("client_id", ""),
            "client_secret": self._secrets.get("client_secret", ""),
        }
        if self._refresh_token:
            data = await self._token_request(
                {**client, "grant_type": "refresh_token", "refresh_token": self._refresh_token},
                refreshing=True,
            )
            if data is not None:
                return self._take_token(data)
            self._refresh_token = None  # expired or revoked: log in again
        data = await self._token_request(
            {
                **client,
                "grant_type": "password",
                "username": self._secrets.get("username", ""),
                "password": self._secrets.get("password", ""),
            },
            refreshing=False,
        )
        assert data is not None
        return self._take_token(data)

    async def _token_request(
        self, form: dict[str, str], *, refreshing: bool
    ) -> dict[str, Any] | None:
        async with translate_transport_errors("ServiceNow"):
            response = await self._http.post(
                self._settings.effective_token_url, data=form, timeout=self._settings.timeout
            )
        if response.status_code < 400:
            return dict(response.json())
        if refreshing and response.status_code in (400, 401):
            return None
        if response.status_code >= 500:
            raise CrmUnavailableError(f"ServiceNow token endpoint answered {response.status_code}")
        raise CrmAuthError(
            "ServiceNow refused the OAuth credentials",
            vendor_status=response.status_code,
            vendor_message=self._scrub(safe_text(response.text)),
        )

    def _take_token(self, data: Mapping[str, Any]) -> tuple[str, float | None, None]:
        if data.get("refresh_token"):
            self._refresh_token = str(data["refresh_token"])
        expires_in = data.get("expires_in")
        return str(data["access_token"]), float(expires_in) if expires_in else None, None

    def _scrub(self, text: str) -> str:
        for secret in [*self._secrets.values(), self._refresh_token or ""]:
            if secret:
                text = text.replace(secret, "***")
        return text

    async def _authorization(self) -> tuple[str, str | None]:
        if self._settings.auth == "basic":
            pair = f"{self._secrets.get('username', '')}:{self._secrets.get('password', '')}"
            return "Basic " + base64.b64encode(pair.encode()).decode(), None
        token = await self._tokens.get()
        self._tokens.start()
        return f"Bearer {token.value}", token.value

    # --- HTTP edge ----------------------------------------------------------------------

    async def _call(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        async def send() -> tuple[httpx.Response, str | None]:
            header, token = await self._authorization()
            async with translate_transport_errors("ServiceNow"):
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    timeout=self._settings.timeout,
                    headers={"Authorization": header, "Accept": "application/json"},
                )
            observe_response(QUOTA_HEADERS, response)
            return response, token

        response = await retry_once_on_401(send, self._tokens.invalidate)
        if response.status_code >= 400:
            raise servicenow_error(response, [*self._secrets.values()])
        return response

    async def _rows(
        self,
        table: str,
        query: str,
        limit: int,
        params: Mapping[str, str],
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` matching ``query`` (and ``keep``, checked here when the query
        only narrows the candidates), following the ``Link: rel="next"`` header
        (``sysparm_offset``) until ``limit`` rows or the last page."""
        url = f"{self._table_base}/{check_table(table)}"
        page: dict[str, Any] | None = {
            **params,
            "sysparm_query": query,
            "sysparm_limit": 100 if keep else min(limit, 100),
        }
        rows: list[dict[str, Any]] = []
        for _ in range(_MAX_CANDIDATE_PAGES if keep else _MAX_PAGES):
            try:
                response = await self._call("GET", url, params=page)
            except CrmNotFoundError:  # v1 answers 404 to a list query without matches
                break
            rows += filter(keep, response.json().get("result") or [])
            next_url = response.links.get("next", {}).get("url")
            if len(rows) >= limit or not next_url:
                break
            if not next_url.startswith(self._settings.api_root):
                log.warning("ServiceNow paging link points elsewhere; stopping")
                break
            url, page = next_url, None
        return rows[:limit]
