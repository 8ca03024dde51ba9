"""Access tokens cached per configuration and refreshed ahead of expiry in the background,
so no agent waits for a token to be minted on the first interaction of the day."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .errors import AppError

__all__ = ["Token", "TokenManager", "authorization"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float | None  # monotonic seconds; None: no expiry known (Salesforce)
    extra: dict[str, str] | None = None  # e.g. Salesforce instance_url


class TokenManager:
    """Holds one token. ``fetch`` mints a new one and returns ``(value, expires_in, extra)``.

    ``get()`` returns the cached token, minting only when there is none or it has expired.
    ``start()`` runs a background task that refreshes ``refresh_margin`` seconds before
    expiry; ``warm_up()`` mints the first token in the background first (when called inside
    a running loop), then starts the refresher. ``invalidate(value)`` drops a token the CRM
    refused (expired-token reply), so the caller's single retry mints a fresh one;
    concurrent callers share one mint.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[tuple[str, float | None, dict[str, str] | None]]],
        *,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        on_refresh: Callable[[], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self._margin = refresh_margin
        self._clock = clock
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._warmup: asyncio.Task[None] | None = None
        self._on_refresh = on_refresh

    @property
    def current(self) -> Token | None:
        return self._token

    async def get(self) -> Token:
        token = self._token
        if token is not None and not self._expired(token):
            return token
        async with self._lock:
            token = self._token
            if token is not None and not self._expired(token):
                return token
            return await self._mint()

    async def invalidate(self, value: str) -> None:
        async with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._refresh_loop(), name="token-refresh")

    def warm_up(self, vendor: str) -> None:
        """Mint the first token now, then keep it fresh ahead of expiry. Outside a running
        loop (a script builds an adapter) nothing happens: the first call mints instead."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._warmup is None:
            self._warmup = asyncio.create_task(self._warm(vendor), name="token-warmup")

    async def _warm(self, vendor: str) -> None:
        try:
            await self.get()
        except AppError as exc:
            log.warning("%s token warm-up failed: %s", vendor, exc.detail)
        except Exception as exc:  # never let a background task die unobserved
            log.warning("%s token warm-up failed: %s", vendor, type(exc).__name__)
        finally:
            # started after the first mint, so the refresher schedules from a known expiry
            self.start()

    async def aclose(self) -> None:
        # the warm-up first: a cancelled warm-up still starts the refresher on its way out
        await _cancel(self._warmup)
        self._warmup = None
        await _cancel(self._task)
        self._task = None

    def _expired(self, token: Token) -> bool:
        return token.expires_at is not None and self._clock() >= token.expires_at

    async def _mint(self) -> Token:
        value, expires_in, extra = await self._fetch()
        expires_at = None if expires_in is None else self._clock() + float(expires_in)
        self._token = Token(value, expires_at, extra)
        if self._on_refresh:
            self._on_refresh()
        return self._token

    async def _refresh_loop(self) -> None:
        while True:
            token = self._token
            if token is None or token.expires_at is None:
                delay = 60.0 if token is None else 3600.0
            else:
                delay = max(1.0, token.expires_at - self._margin - self._clock())
            await asyncio.sleep(delay)
            try:
                async with self._lock:
                    await self._mint()
            except Exception as exc:  # keep the old token; try again shortly
                log.warning("token refresh failed: %s", type(exc).__name__)
                await asyncio.sleep(30)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def authorization(tokens: TokenManager | None, basic: str | None) -> str:
    """The ``Authorization`` header: a bearer token when the CRM takes OAuth (refreshed in
    the background from the first call on), else the fixed Basic credentials."""
    if tokens is None:
        assert basic is not None
        return basic
    tokens.start()
    return "Bearer " + (await tokens.get()).value
