"""HubSpot's API session: the private app token, transport and error translation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ...errors import (
    CrmUnavailableError,
)
from ...http import (
    observe_response,
    translate_transport_errors,
)
from ...models import (
    CrmSystem,
    FieldInfo,
)
from ...tokens import TokenManager
from .settings import HubSpotSettings
from .wire import (
    CALL_ASSOCIATION_TYPES,
    DEFAULT_PROPERTIES,
    QUOTA_HEADERS,
    HubSpotPaths,
    hubspot_error,
)

__all__ = ["HubSpotConnection"]


class HubSpotConnection:
    """A HubSpot portal as the adapter reaches it: the private app token, the numbered or
    dated API paths, calls with errors translated (the token blanked in vendor words)."""

    def __init__(
        self,
        settings: HubSpotSettings,
        access_token: str,
        http: httpx.AsyncClient,
        *,
        label: str = "HubSpot",
        default_region: str = "DE",
    ) -> None:
        self._settings = settings
        self._paths = HubSpotPaths(settings.api_version)
        self._http = http
        self._secret = access_token
        self._region = default_region
        self._tokens = TokenManager(self._static_token)
        self._system = CrmSystem(
            type="hubspot", label=label, base_url=f"https://{settings.portal_domain}"
        )
        self._fields: dict[str, tuple[float, list[FieldInfo]]] = {}
        self._call_types: dict[str, int] = dict(CALL_ASSOCIATION_TYPES)
        self._types: tuple[float, set[str]] = (float("-inf"), set())  # (read at, names)

    async def _static_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        return self._secret, None, None

    @property
    def system(self) -> CrmSystem:
        return self._system

    # --- HTTP edge ----------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        token = await self._tokens.get()
        headers = {"Authorization": f"Bearer {token.value}", "Accept": "application/json"}
        async with translate_transport_errors("HubSpot"):
            response = await self._http.request(
                method,
                self._settings.api_root + path,
                json=json,
                params=params,
                headers=headers,
                timeout=self._settings.timeout,
            )
        observe_response(QUOTA_HEADERS, response)
        if response.status_code >= 400:
            raise hubspot_error(response, [self._secret])
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise CrmUnavailableError("HubSpot sent a reply that is not JSON") from exc

    def _properties(self, object_type: str) -> list[str]:
        return list(DEFAULT_PROPERTIES.get(object_type, ("hs_object_id",)))
