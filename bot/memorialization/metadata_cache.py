"""CRM metadata (field lists, record types) per key, fetched once for concurrent jobs and
kept for a while."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

__all__ = ["MetadataCache"]

T = TypeVar("T")


class MetadataCache:
    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[str, ...], tuple[float, asyncio.Future[Any]]] = {}

    async def get(self, key: tuple[str, ...], load: Callable[[], Awaitable[T]]) -> T:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return cast(T, await asyncio.shield(entry[1]))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[key] = (time.monotonic() + self._ttl, future)
        try:
            future.set_result(await load())
        except BaseException as exc:
            self._entries.pop(key, None)
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it from their own await
            raise
        return cast(T, future.result())
