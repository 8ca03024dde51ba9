"""The Genesys Cloud REST calls of the Notification API subscriber (I/O): an OAuth
client-credentials token (``POST https://login.<region>/oauth/token``), a notification
channel (``POST /api/v2/notifications/channels``) and its subscriptions
(``PUT .../channels/{id}/subscriptions``), a user's email (``GET /api/v2/users/{id}``)
and a conversation's state (``GET /api/v2/conversations/calls/{id}``)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from .errors import PlatformUnavailableError
from .models import GenesysSettings

__all__ = ["GenesysApi"]


class GenesysApi:
    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: GenesysSettings,
        client_id: str,
        client_secret: str,
    ) -> None:
        self._http = http
        self._api = (settings.api_base or f"https://api.{settings.region}").rstrip("/")
        self._login = (settings.login_base or f"https://login.{settings.region}").rstrip("/")
        self._client = (client_id, client_secret)
        self._token: tuple[str, float] | None = None
        self._emails: dict[str, str | None] = {}

    async def token(self) -> str:
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        body = await self._call(
            "POST",
            f"{self._login}/oauth/token",
            auth=self._client,
            data={"grant_type": "client_credentials"},
        )
        token = str(body.get("access_token") or "")
        if not token:
            raise PlatformUnavailableError("Genesys Cloud login answered no access token")
        lifetime = float(body.get("expires_in") or 3600)
        self._token = (token, time.monotonic() + max(lifetime - 60, lifetime / 2))
        return token

    async def create_channel(self) -> tuple[str, str]:
        """A new notification channel: its id and WebSocket URI."""
        body = await self._api_call("POST", "/api/v2/notifications/channels")
        return str(body["id"]), str(body["connectUri"])

    async def subscribe(self, channel_id: str, topics: list[str]) -> None:
        await self._api_call(
            "PUT",
            f"/api/v2/notifications/channels/{channel_id}/subscriptions",
            json=[{"id": topic} for topic in topics],
        )

    async def user_email(self, user_id: str) -> str | None:
        if user_id not in self._emails:
            body = await self._api_call("GET", f"/api/v2/users/{user_id}", missing_ok=True)
            email = body.get("email") or body.get("username")
            self._emails[user_id] = str(email) if email else None
        return self._emails[user_id]

    async def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        body = await self._api_call(
            "GET", f"/api/v2/conversations/calls/{conversation_id}", missing_ok=True
        )
        return body or None

    async def _api_call(
        self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self.token()}"}
        return await self._call(
            method, self._api + path, headers=headers, missing_ok=missing_ok, **kwargs
        )

    async def _call(
        self, method: str, url: str, *, missing_ok: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise PlatformUnavailableError(
                f"Genesys Cloud unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code == 401:
            self._token = None  # expired or revoked: the next call logs in again
        if response.status_code == 404 and missing_ok:
            return {}
        if response.status_code >= 300:
            raise PlatformUnavailableError(
                f"Genesys Cloud answered {response.status_code} to {method} {url.split('?')[0]}"
            )
        body = response.json() if response.content else {}
        return body if isinstance(body, dict) else {"items": body}
