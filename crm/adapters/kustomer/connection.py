"""Kustomer's API session: the API key, transport and error translation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from ...errors import (
    ConfigError,
)
from ...http import (
    json_or_raise,
    observe_response,
    translate_transport_errors,
)
from ...models import (
    CrmSystem,
    FieldInfo,
)
from ...registry import AdapterContext
from .settings import KustomerSettings
from .wire import QUOTA_HEADERS, VENDOR, error_for_response

__all__ = ["KustomerConnection"]


class KustomerConnection:
    """A Kustomer organisation as the adapter reaches it: the API key and calls with errors
    translated (rate-limit resets read from Retry-After or x-ratelimit-reset)."""

    def __init__(self, context: AdapterContext, settings: KustomerSettings) -> None:
        org = settings.org
        if not context.secrets.get("api_key"):
            raise ConfigError("Kustomer needs the secret api_key", field="api_key")
        self._api = settings.api_base or f"https://{org}.api.kustomerapp.com/v1"
        self._app = settings.app_url or f"https://{org}.kustomerapp.com"
        self._key = context.secrets["api_key"]
        self._http = context.http
        self._region = context.default_phone_region
        self._status = settings.timeline_conversation_status
        self._system = CrmSystem(type="kustomer", label=context.label, base_url=self._app)
        self._fields: dict[str, list[FieldInfo]] = {}

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- transport ---------------------------------------------------------------------

    async def _call(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        async with translate_transport_errors(VENDOR):
            response = await self._http.request(
                method,
                url,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self._key}", "Accept": "application/json"},
            )
        observe_response(QUOTA_HEADERS, response)
        return json_or_raise(response, error_for_response(response))

    def _url(self, path: str) -> str:
        return f"{self._api}/{path.lstrip('/')}"

    def _next(self, body: Mapping[str, Any]) -> str | None:
        """``links.next`` of a list reply, made absolute (Kustomer sends it relative)."""
        link = (body.get("links") or {}).get("next")
        return urljoin(self._api + "/", link) if link else None
