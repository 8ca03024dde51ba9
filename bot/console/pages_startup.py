"""Console page of a configuration's start-up steps: an ordered list, a form per step
generated from its kind's model (``crm.startup``), moved up/down, added and removed before
saving, every problem at its field; the JSON definition stays as the advanced way. Saving
goes through :class:`bot.configurations.ConfigurationStore` (``PATCH startup``), as the
admin API does; no steps: the built-in default."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from crm.config import ConfigurationPatch
from crm.errors import AppError
from crm.startup import StartupStep

from ..configurations import ConfigurationStore
from ..services import SERVICES
from .auth import PREFIX, ConsoleSession, console_page
from .pages_workflows import parse_json
from .render import page
from .startup_forms import (
    STEP_KINDS,
    StepRow,
    field_of_error,
    rows_of_form,
    rows_of_steps,
    step_fields,
    steps_of_rows,
)

__all__ = ["routes"]

_steps: TypeAdapter[list[StartupStep]] = TypeAdapter(list[StartupStep])


def _store(request: web.Request) -> ConfigurationStore:
    return request.app[SERVICES].configurations


async def _page(
    request: web.Request,
    session: ConsoleSession,
    *,
    rows: list[StepRow] | None = None,
    text: str | None = None,
    errors: dict[str, str] | None = None,
    pending: bool = False,
    status: int = 200,
) -> web.Response:
    config_id = request.match_info["id"]
    config = await _store(request).get(config_id)
    steps = await request.app[SERVICES].directory.startup_steps(config_id)
    if rows is None:
        rows = rows_of_steps(steps)
    if text is None:
        text = json.dumps(_steps.dump_python(list(steps), mode="json", by_alias=True), indent=2)
    values: dict[str, Any] = {
        "session": session,
        "config": config,
        "rows": [(row, step_fields(row.kind, row.values)) for row in rows],
        "kinds": STEP_KINDS,
        "text": text,
        "errors": errors or {},
        "pending": pending,
    }
    return page(request, "startup.html", values, status=status)


@console_page
async def startup_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    return await _page(request, session)


async def _patch(request: web.Request, steps: list[StartupStep] | None) -> None:
    await _store(request).patch(request.match_info["id"], ConfigurationPatch(startup=steps))


def _done(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(
        f"{PREFIX}/configurations/{request.match_info['id']}/startup?done=saved"
    )


@console_page
async def startup_save(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    form = await request.post()
    op = str(form.get("op", ""))
    if op == "default":
        await _patch(request, None)
        raise _done(request)
    rows = rows_of_form(form)
    if op:  # moved, added or removed: shown, saved with the next Save
        return await _page(request, session, rows=rows, pending=True)
    steps, errors = steps_of_rows(rows)
    if not errors:
        try:
            await _patch(request, steps or None)
        except AppError as exc:
            errors = {field_of_error(exc.field or ""): exc.detail or exc.code}
        else:
            raise _done(request)
    return await _page(request, session, rows=rows, errors=errors, status=400)


@console_page
async def startup_json(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    """The advanced way: the steps as their JSON definition."""
    text = str((await request.post()).get("steps", "")).strip()
    try:
        await _patch(request, _steps.validate_python(parse_json(text, "steps")) if text else None)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        errors = {"steps": ".".join(str(p) for p in first["loc"]) + ": " + first["msg"]}
    except AppError as exc:
        errors = {"steps": exc.detail or exc.code}  # the path is in the message
    else:
        raise _done(request)
    return await _page(request, session, text=text, errors=errors, status=400)


def routes() -> list[web.RouteDef]:
    base = PREFIX + "/configurations/{id}/startup"
    return [
        web.get(base, startup_page),
        web.post(base, startup_save),
        web.post(base + "/json", startup_json),
    ]
