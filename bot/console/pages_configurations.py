"""Console pages of CRM configurations: list, create (a form per CRM type from its
settings model), edit, activate/deactivate, delete and Test connection. Every change goes
through :class:`bot.configurations.ConfigurationStore`, as the admin API's do."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from crm.config import TYPE_LABELS, ConfigurationInput, ConfigurationPatch
from crm.errors import AppError, CrmError
from crm.registry import INTEGRATION_TYPES

from ..audit import list_events
from ..configurations import ConfigurationStore
from ..services import SERVICES
from .auth import PREFIX, ConsoleSession, console_page
from .forms import (
    errors_of_validation,
    posted_status,
    secret_fields,
    secrets_from_form,
    settings_fields,
    settings_from_form,
)
from .render import page

__all__ = ["routes"]


def _store(request: web.Request) -> ConfigurationStore:
    return request.app[SERVICES].configurations


def _form(data: Any) -> dict[str, str]:
    return {key: str(value) for key, value in data.items()}


def app_error(exc: AppError) -> dict[str, str]:
    """An error of the service layer as form errors: under its field, else the form's."""
    return {exc.field or "_form": exc.detail or exc.code}


@console_page
async def list_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    configs = await _store(request).list_configurations()
    return page(request, "configurations.html", {"session": session, "configs": configs})


def _type_choices() -> list[tuple[str, str]]:
    return [(name, TYPE_LABELS.get(name, name)) for name in INTEGRATION_TYPES]


async def _edit_form(
    request: web.Request,
    session: ConsoleSession,
    *,
    integration_type: str,
    values: dict[str, str],
    config: Any = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    warnings: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    current = (
        {key.removeprefix("settings."): v for key, v in values.items()}
        if values
        else dict(config.settings if config else {})
    )
    audit = []
    if config is not None:
        async with request.app[SERVICES].sessions() as db:
            audit = await list_events(db, configuration_id=config.id, limit=20)
    return page(
        request,
        "configuration.html",
        {
            "session": session,
            "config": config,
            "type": integration_type,
            "type_label": TYPE_LABELS.get(integration_type, integration_type),
            "fields": settings_fields(integration_type, current),
            "secret_names": secret_fields(integration_type),
            "values": values,
            "errors": errors or {},
            "notice": notice,
            "warnings": warnings or [],
            "audit": audit,
        },
        status=status,
    )


@console_page
async def new_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    integration_type = request.query.get("type", "")
    if integration_type not in INTEGRATION_TYPES:
        return page(request, "choose_type.html", {"session": session, "types": _type_choices()})
    return await _edit_form(request, session, integration_type=integration_type, values={})


@console_page
async def create(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    form = _form(await request.post())
    integration_type = form.get("type", "")
    if integration_type not in INTEGRATION_TYPES:
        raise web.HTTPSeeOther(f"{PREFIX}/configurations/new")
    try:
        body = ConfigurationInput.model_validate(
            {
                "name": form.get("name", ""),
                "description": form.get("description", ""),
                "type": integration_type,
                "isDefault": bool(form.get("isDefault")),
                "settings": settings_from_form(integration_type, form),
                "secrets": {
                    k: v
                    for k, v in secrets_from_form(secret_fields(integration_type), form).items()
                    if v
                },
            }
        )
        created = await _store(request).create(body)
    except ValidationError as exc:
        errors = errors_of_validation(exc, ConfigurationInput)
    except AppError as exc:
        errors = app_error(exc)
    else:
        raise web.HTTPSeeOther(f"{PREFIX}/configurations/{created.id}?done=saved")
    return await _edit_form(
        request, session, integration_type=integration_type, values=form, errors=errors, status=400
    )


@console_page
async def detail(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    config = await _store(request).get(request.match_info["id"])
    return await _edit_form(
        request, session, integration_type=config.type, values={}, config=config
    )


@console_page
async def save(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    store = _store(request)
    config = await store.get(request.match_info["id"])
    form = _form(await request.post())
    try:
        body = ConfigurationPatch.model_validate(
            {
                "name": form.get("name", ""),
                "description": form.get("description", ""),
                "isDefault": bool(form.get("isDefault")),
                "settings": settings_from_form(config.type, form),
                "secrets": secrets_from_form(secret_fields(config.type), form),
            }
        )
        await store.patch(config.id, body)
    except ValidationError as exc:
        errors = errors_of_validation(exc, ConfigurationPatch)
    except AppError as exc:
        errors = app_error(exc)
    else:
        raise web.HTTPSeeOther(f"{PREFIX}/configurations/{config.id}?done=saved")
    return await _edit_form(
        request,
        session,
        integration_type=config.type,
        values=form,
        config=config,
        errors=errors,
        status=400,
    )


@console_page
async def set_status(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    config_id = request.match_info["id"]
    await _store(request).set_status(config_id, posted_status(await request.post()))
    raise web.HTTPSeeOther(f"{PREFIX}/configurations/{config_id}?done=saved")


@console_page
async def test(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    store = _store(request)
    config = await store.get(request.match_info["id"])
    t_ok, message, warnings = True, "", []
    try:
        result = await store.test(config.id)
        warnings = result["warnings"]
    except CrmError as exc:
        t_ok, message = False, exc.vendor_message or exc.detail or exc.code
    return await _edit_form(
        request,
        session,
        integration_type=config.type,
        values={},
        config=config,
        notice=("ok:" + str(result["recordTypes"])) if t_ok else "failed:" + message,
        warnings=warnings,
    )


@console_page
async def delete(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    if not (await request.post()).get("confirm"):  # the box a browser requires ticked
        raise web.HTTPSeeOther(f"{PREFIX}/configurations/{request.match_info['id']}")
    await _store(request).delete(request.match_info["id"])
    raise web.HTTPSeeOther(f"{PREFIX}/configurations?done=deleted")


def routes() -> list[web.RouteDef]:
    base = PREFIX + "/configurations"
    return [
        web.get(base, list_page),
        web.get(base + "/new", new_page),
        web.post(base + "/new", create),
        web.get(base + "/{id}", detail),
        web.post(base + "/{id}", save),
        web.post(base + "/{id}/status", set_status),
        web.post(base + "/{id}/test", test),
        web.post(base + "/{id}/delete", delete),
    ]
