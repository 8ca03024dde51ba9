"""Console pages of memorialization mappings and dynamic data mappings (and switching
workflows on/off or deleting them: the same verbs for every per-configuration item): record
types and CRM fields picked from the CRM's own metadata (type and max length shown), platform fields
and script variables from lists, the 5 text + 3 other limit enforced as one picks (by the
page's script; the same rules again on the server), every problem next to its field, and
the card preview of a dynamic data mapping before it is saved."""

from __future__ import annotations

import json
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ValidationError

from crm.config import (
    MAX_OTHER_FIELDS,
    MAX_TEXT_FIELDS,
    DynamicDataMapping,
    MemorializationMappingInput,
)
from crm.errors import AppError
from crm.mappings import DIGITAL_FIELDS, VOICE_FIELDS
from crm.models import FieldInfo, RecordType
from crm.validation import CrmMetadata, dynamic_mapping_problems, memorialization_problems

from ..configurations import ChildName, ConfigurationStore
from ..services import SERVICES
from .auth import PREFIX, ConsoleSession, console_page
from .forms import posted_status
from .mapping_forms import (
    dynamic_from_form,
    memorialization_from_form,
    picker,
    record_types_of,
    validation_errors,
)
from .pages_configurations import app_error
from .preview import preview_card
from .render import language, page

__all__ = ["routes"]

Kind = Literal["memorialization", "dynamic"]
_SEGMENTS: dict[str, Kind] = {
    "data-mappings": "memorialization",
    "dynamic-data-mappings": "dynamic",
}
_CHILDREN: dict[str, ChildName] = {**_SEGMENTS, "workflows": "workflow"}
_MODELS: dict[Kind, type[BaseModel]] = {
    "memorialization": MemorializationMappingInput,
    "dynamic": DynamicDataMapping,
}


def _store(request: web.Request) -> ConfigurationStore:
    return request.app[SERVICES].configurations


def _kind(request: web.Request) -> Kind:
    return _SEGMENTS[request.match_info["segment"]]


def _picked(kind: Kind, infos: list[FieldInfo]) -> list[FieldInfo]:
    """The fields a mapping may name: any for the card, writable text for memorialization."""
    if kind == "dynamic":
        return infos
    return [f for f in infos if f.is_text and f.updateable]


@console_page
async def list_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    store, kind = _store(request), _kind(request)
    config = await store.get(request.match_info["id"])
    items = await store.children.list(kind, config.id)
    values = {"session": session, "config": config, "kind": kind, "items": items}
    return page(request, "mappings.html", {**values, "segment": request.match_info["segment"]})


async def _form_page(
    request: web.Request,
    session: ConsoleSession,
    data: dict[str, Any],
    *,
    item_id: str,
    errors: dict[str, str],
    card: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    store, kind = _store(request), _kind(request)
    config = await store.get(request.match_info["id"])
    entities = await store.entities(config.id)
    pickers = []
    for i, item in enumerate(data["recordTypes"]):
        known, infos = await store.fields(config.id, item["recordType"])
        pickers.append(picker(i, known, _picked(kind, infos), item, errors))
    # script variables named anywhere in the configuration's memorialization mappings
    saved = await store.children.list("memorialization", config.id)
    rules = [r for m in saved for item in m.record_types for r in item.fields]
    variables = sorted(
        {r.source.field for r in rules if r.source.channel == "script_variable"}
        | {
            rule["source"]["field"]
            for item in data["recordTypes"]
            for rule in item["fields"]
            if isinstance(rule, dict) and rule["source"]["channel"] == "script_variable"
        }
    )
    return page(
        request,
        "mapping.html",
        {
            "session": session,
            "config": config,
            "kind": kind,
            "segment": request.match_info["segment"],
            "item_id": item_id,
            "data": data,
            "entities": entities,
            "pickers": pickers,
            "errors": errors,
            "voice": VOICE_FIELDS,
            "digital": DIGITAL_FIELDS,
            "variables": variables,
            "max_text": MAX_TEXT_FIELDS,
            "max_other": MAX_OTHER_FIELDS,
            "card_json": json.dumps(card) if card else "",
        },
        status=status,
    )


@console_page
async def edit_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    item_id = request.match_info["mid"]
    data: dict[str, Any] = {"name": "", "description": "", "recordTypes": []}
    if item_id != "new":
        model = await _store(request).children.get(
            _kind(request), request.match_info["id"], item_id
        )
        data = model.model_dump(mode="json", by_alias=True)
    return await _form_page(request, session, data, item_id=item_id, errors={})


async def _problems(
    request: web.Request, kind: Kind, model: Any
) -> tuple[dict[str, str], dict[str, RecordType], dict[str, list[FieldInfo]]]:
    """Every problem of ``model`` against the CRM's metadata, by field (the store's rules)."""
    store, config_id = _store(request), request.match_info["id"]
    types = {t.name.lower(): t for t in await store.entities(config_id)}
    fields: dict[str, list[FieldInfo]] = {}
    for item in model.record_types:
        known = types.get(item.record_type.lower())
        if known is not None:
            fields[known.name] = (await store.fields(config_id, known.name))[1]
    meta = CrmMetadata(
        record_types=list(types.values()), fields={k.lower(): v for k, v in fields.items()}
    )
    check = memorialization_problems if kind == "memorialization" else dynamic_mapping_problems
    problems = check(model, meta)
    return {p.field: p.message for p in problems}, types, fields


@console_page
async def submit(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    store, kind = _store(request), _kind(request)
    config_id, item_id = request.match_info["id"], request.match_info["mid"]
    form = await request.post()
    names = record_types_of(form)
    op = str(form.get("op", "save"))
    if kind == "dynamic":
        data = dynamic_from_form(form, names)
    else:
        offered = {}
        for name in names:
            known, infos = await store.fields(config_id, name)
            offered[name] = [f.name for f in _picked(kind, infos)]
        data = memorialization_from_form(form, names, offered)
    if op not in ("save", "preview"):  # a record type added or removed: the form again
        return await _form_page(request, session, data, item_id=item_id, errors={})
    errors: dict[str, str] = {}
    card = None
    try:
        model = _MODELS[kind].model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc)
    else:
        errors, types, fields = await _problems(request, kind, model)
        if not errors and op == "preview" and isinstance(model, DynamicDataMapping):
            config = await store.get(config_id)
            adapter = await request.app[SERVICES].directory.adapter(config_id)
            lang = language(request.headers.get("Accept-Language", ""))
            card = await preview_card(
                adapter, model, types, fields, locale=lang, crm_label=config.name
            )
        if not errors and op == "save":
            try:
                if item_id == "new":
                    await store.children.create(kind, config_id, model)
                else:
                    await store.children.replace(kind, config_id, item_id, model)
            except AppError as exc:
                errors = app_error(exc)
            else:
                segment = request.match_info["segment"]
                raise web.HTTPSeeOther(f"{PREFIX}/configurations/{config_id}/{segment}?done=saved")
    status = 400 if errors else 200
    return await _form_page(
        request, session, data, item_id=item_id, errors=errors, card=card, status=status
    )


@console_page
async def set_status(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    config_id, segment = request.match_info["id"], request.match_info["segment"]
    status = posted_status(await request.post())
    await _store(request).children.set_status(
        _CHILDREN[segment], config_id, request.match_info["mid"], status
    )
    raise web.HTTPSeeOther(f"{PREFIX}/configurations/{config_id}/{segment}?done=saved")


@console_page
async def delete(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    config_id, segment = request.match_info["id"], request.match_info["segment"]
    await _store(request).children.delete(_CHILDREN[segment], config_id, request.match_info["mid"])
    raise web.HTTPSeeOther(f"{PREFIX}/configurations/{config_id}/{segment}?done=deleted")


def routes() -> list[web.RouteDef]:
    """The mappings' pages; switching on/off and deleting also for workflows."""
    base = PREFIX + "/configurations/{id}/{segment:data-mappings|dynamic-data-mappings}"
    any_child = PREFIX + "/configurations/{id}/{segment:" + "|".join(_CHILDREN) + "}/{mid}"
    return [
        web.get(base, list_page),
        web.get(base + "/{mid}", edit_page),
        web.post(base + "/{mid}", submit),
        web.post(any_child + "/status", set_status),
        web.post(any_child + "/delete", delete),
    ]
