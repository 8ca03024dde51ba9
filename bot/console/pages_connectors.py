"""Console pages of the platform connectors: the four platforms with their state; per
platform its settings form (generated from the platform's settings model; secrets
write-only), enable/disable, delete, the agent table as editable rows, and the inbound URLs
to paste on the platform's side. Every change goes through
:class:`bot.connectors.ConnectorStore`, as the admin API's and ``config apply``'s do (same
rules, same audit trail)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from crm.errors import AppError, NotFoundError

from ..audit import list_events
from ..connectors import Connector, ConnectorInput, ConnectorStore
from ..connectors.models import PLATFORM_LABELS, PLATFORMS, secret_names
from ..connectors.store import unknown_platform
from ..services import SERVICES
from .auth import PREFIX, ConsoleSession, console_page
from .connector_forms import (
    AgentRow,
    agent_errors,
    agent_rows,
    agent_table,
    connector_fields,
    connector_settings,
    inbound_urls,
    row_of_error,
)
from .forms import errors_of_validation, posted_status
from .pages_configurations import app_error
from .render import page

__all__ = ["routes"]

BASE = PREFIX + "/connectors"


def _store(request: web.Request) -> ConnectorStore:
    return request.app[SERVICES].connectors


def _platform(request: web.Request) -> str:
    platform = request.match_info["platform"]
    if platform not in PLATFORMS:
        raise unknown_platform(platform)
    return platform


async def _connector(request: web.Request, platform: str) -> Connector | None:
    try:
        return await _store(request).get(platform)
    except NotFoundError:
        return None


@console_page
async def list_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    set_up = {c.platform: c for c in await _store(request).list()}
    rows = [(p, PLATFORM_LABELS[p], set_up.get(p)) for p in PLATFORMS]
    return page(request, "connectors.html", {"session": session, "rows": rows})


async def _edit(
    request: web.Request,
    session: ConsoleSession,
    platform: str,
    *,
    values: dict[str, str] | None = None,
    rows: list[AgentRow] | None = None,
    errors: dict[str, str] | None = None,
    agent_errors: dict[str, str] | None = None,
    status: int = 200,
    pending: bool = False,
) -> web.Response:
    connector = await _connector(request, platform)
    current: dict[str, Any] = dict(connector.settings) if connector else {}
    if values:
        current = {k.removeprefix("settings."): v for k, v in values.items()}
    if rows is None:
        agents = connector.agents if connector else {}
        rows = [AgentRow(k, v) for k, v in agents.items()] + [AgentRow("", "")]
    async with request.app[SERVICES].sessions() as db:
        audit = await list_events(db, target=platform, action_prefix="connector.", limit=20)
    configs = await request.app[SERVICES].configurations.list_configurations()
    base = request.app[SERVICES].settings.public_url or f"{request.scheme}://{request.host}"
    default_id = next((c.id for c in configs if c.is_default), None)
    return page(
        request,
        "connector.html",
        {
            "session": session,
            "platform": platform,
            "label": PLATFORM_LABELS[platform],
            "connector": connector,
            "fields": connector_fields(platform, current),
            "secret_names": secret_names(platform),
            "configs": configs,
            "values": values or {},
            "rows": rows,
            "urls": inbound_urls(platform, base, connector, default_id),
            "errors": errors or {},
            "agent_errors": agent_errors or {},
            "audit": audit,
            "pending": pending,
        },
        status=status,
    )


@console_page
async def detail(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    return await _edit(request, session, _platform(request))


@console_page
async def save(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    platform = _platform(request)
    form = {key: str(value) for key, value in (await request.post()).items()}
    connector = await _connector(request, platform)
    stored = [n for n, status in (connector.secrets if connector else {}).items() if status.set]
    settings, secrets, errors = connector_settings(platform, form, stored)
    if not errors:
        try:
            body = ConnectorInput.model_validate(
                {
                    "status": connector.status if connector else "active",
                    "configurationId": form.get("configurationId") or None,
                    "settings": settings,
                    "secrets": secrets,
                }
            )
            await _store(request).put(platform, body)
        except ValidationError as exc:
            errors = errors_of_validation(exc, ConnectorInput)
        except AppError as exc:
            errors = app_error(exc)
        else:
            raise web.HTTPSeeOther(f"{BASE}/{platform}?done=saved")
    return await _edit(request, session, platform, values=form, errors=errors, status=400)


@console_page
async def save_agents(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    platform = _platform(request)
    form = await request.post()
    rows = agent_rows(form)
    if form.get("op"):  # a row added or removed: shown, saved with the next Save
        return await _edit(request, session, platform, rows=rows, pending=True)
    problems = agent_errors(rows)
    if not problems:
        try:
            await _store(request).set_agents(platform, agent_table(rows))
        except AppError as exc:
            problems = {row_of_error(exc.field or "", rows): exc.detail or exc.code}
        else:
            raise web.HTTPSeeOther(f"{BASE}/{platform}?done=saved#agents")
    return await _edit(request, session, platform, rows=rows, agent_errors=problems, status=400)


@console_page
async def set_status(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    platform = _platform(request)
    await _store(request).set_status(platform, posted_status(await request.post()))
    raise web.HTTPSeeOther(f"{BASE}/{platform}?done=saved")


@console_page
async def delete(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    platform = _platform(request)
    if not (await request.post()).get("confirm"):  # the box a browser requires ticked
        raise web.HTTPSeeOther(f"{BASE}/{platform}")
    await _store(request).delete(platform)
    raise web.HTTPSeeOther(f"{BASE}?done=deleted")


def routes() -> list[web.RouteDef]:
    return [
        web.get(BASE, list_page),
        web.get(BASE + "/{platform}", detail),
        web.post(BASE + "/{platform}", save),
        web.post(BASE + "/{platform}/agents", save_agents),
        web.post(BASE + "/{platform}/status", set_status),
        web.post(BASE + "/{platform}/delete", delete),
    ]
