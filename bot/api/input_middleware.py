"""The middleware that refuses hostile text in a request's headers, path parameters and
query before any handler runs (the rules are :mod:`bot.api.inputs`')."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .inputs import check_text

__all__ = ["input_middleware"]


@web.middleware
async def input_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """400 for a header, path parameter, query name or value with a NUL or bytes that are
    not UTF-8 (aiohttp hands those on as lone surrogates): no handler sees them, so none
    can hand them to a database, a token parser or an encoder."""
    for name, value in request.headers.items():
        check_text(value, (name,))
    for name, value in request.match_info.items():
        check_text(value, (name,))
    for name, value in request.query.items():
        check_text(name, (name,))
        check_text(value, (name,))
    return await handler(request)
