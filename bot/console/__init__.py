"""The admin console at ``/admin``: server-rendered pages (Jinja2) over the same service
layer as the admin API (:mod:`bot.configurations`, :mod:`bot.memorialization.jobs`,
:mod:`bot.audit`), so both ways in share one set of rules and one audit trail. Any
JavaScript (the Adaptive Cards renderer for the card preview, the field pickers' limit)
and CSS ship inside the package (``bot/console/static``); every page works without it."""

from __future__ import annotations

from aiohttp import web

from . import (
    oidc,
    pages_configurations,
    pages_connectors,
    pages_jobs,
    pages_mappings,
    pages_startup,
    pages_workflows,
)
from .auth import PREFIX, sign_in, sign_in_form, sign_out
from .render import static_file

__all__ = ["add_routes"]


async def _index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(PREFIX + "/configurations")


async def _sign_in_page(request: web.Request) -> web.StreamResponse:
    return await sign_in_form(request)


def add_routes(app: web.Application) -> None:
    """Mount the console on ``app`` (not in the OpenAPI document: it is not an API)."""
    app.router.add_routes(
        [
            web.get(PREFIX, _index),
            web.get(PREFIX + "/", _index),
            web.get(PREFIX + "/sign-in", _sign_in_page),
            web.post(PREFIX + "/sign-in", sign_in),
            web.post(PREFIX + "/sign-out", sign_out),
            web.get(PREFIX + "/static/{name:.+}", static_file),
            *pages_configurations.routes(),
            *pages_mappings.routes(),
            *pages_workflows.routes(),
            *pages_startup.routes(),
            *pages_jobs.routes(),
            *pages_connectors.routes(),
            *oidc.routes(),
        ]
    )
