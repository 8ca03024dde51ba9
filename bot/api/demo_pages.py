"""A read-only web view of the demo CRM, so the card's "Open in CRM" links work in development.

The demo adapter links records as ``{base_url}/{type}/{id}`` with the default base
``http://localhost:3978/demo-crm``; these routes answer those links on the service itself:

* ``GET /demo-crm/``           every record type with its count and links to its records
* ``GET /demo-crm/{type}/{id}`` one record: its fields (labelled from ``list_fields``), related
  records and, when the adapter keeps them, the tasks on its timeline

Plain server-rendered HTML from Jinja2 templates shipped in ``bot/api/templates/demo_crm``,
autoescaped (every value is escaped), no JavaScript (the Content-Security-Policy forbids
scripts outright), a little inline CSS. The page builders are pure functions of the records
(views in, HTML out); the handlers only fetch. Mount it in development only.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from crm.errors import AppError, CrmNotFoundError, CrmRejectedError
from crm.models import Condition, CrmRecord, DynamicSearch, FieldInfo, FieldType, FieldValue
from crm.protocol import CrmAdapter

from .errors import error_body

__all__ = [
    "add_routes",
    "AdapterProvider",
    "PREFIX",
    "render_error",
    "render_index",
    "render_record",
    "render_not_found",
]

AdapterProvider = Callable[[], Awaitable[CrmAdapter]]
_Page = Callable[[web.Request], Awaitable[web.Response]]
TimelineReader = Callable[[str, str], Awaitable[list[CrmRecord]]]

PREFIX = "/demo-crm"
_LIST_LIMIT = 200  # the demo adapter's own cap on one search
_RELATED_LIMIT = 25
_TIMELINE_COLUMNS = (
    "status",
    "call_direction",
    "call_duration_seconds",
    "call_disposition",
    "agent_name",
)

# No scripts, no external anything: only the inline stylesheet may apply.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.api", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
)


def _render(template: str, title: str, **values: Any) -> str:
    page = _TEMPLATES.get_template(f"demo_crm/{template}")
    return page.render(title=title, prefix=PREFIX, **values) + "\n"


# --- pure views of the records ------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    href: str
    title: str
    kind: str = ""


@dataclass(frozen=True)
class _Value:
    """A field value as the page shows it: ``text`` None is an empty value."""

    text: str | None
    href: str | None = None
    external: bool = False


def record_path(record_type: str, record_id: str) -> str:
    """The page of one record on this server (path segments percent-encoded)."""
    return f"{PREFIX}/{quote(record_type, safe='')}/{quote(record_id, safe='')}"


def _link(record: CrmRecord, kind: str = "") -> _Link:
    return _Link(record_path(record.type, record.id), record.title, kind)


def render_index(types: Sequence[tuple[str, str, list[CrmRecord]]]) -> str:
    """The start page: for each (type name, label, records) its count and record links."""
    listed = [
        {
            "name": name,
            "label": label,
            "count": f"{len(records)}+" if len(records) >= _LIST_LIMIT else str(len(records)),
            "records": [_link(record) for record in records],
        }
        for name, label, records in types
    ]
    return _render("index.html", "Records", types=listed)


def _value(
    info: FieldInfo,
    value: FieldValue,
    parents: Mapping[str, str],
    titles: Mapping[tuple[str, str], str],
) -> _Value:
    """References to known parents become links (named by the parent's title when it is
    among the related records), URLs too."""
    if value is None or value == "":
        return _Value(None)
    if isinstance(value, bool):
        return _Value("Yes" if value else "No")
    text = str(value)
    if info.type == FieldType.REFERENCE:
        parent_type = next((kind for kind, pid in parents.items() if pid == text), None)
        if parent_type is not None:
            name = titles.get((parent_type, text), text)
            return _Value(name, record_path(parent_type, text))
    if info.type == FieldType.URL and text.lower().startswith(("https://", "http://")):
        return _Value(text, text, external=True)
    return _Value(text)


def _fields(
    record: CrmRecord, fields: Iterable[FieldInfo], related: Sequence[CrmRecord]
) -> list[dict[str, Any]]:
    titles = {(item.type, item.id): item.title for item in related}
    return [
        {
            "label": info.label,
            "value": _value(info, record.fields.get(info.name), record.parent_ids, titles),
        }
        for info in fields
    ]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _task(task: CrmRecord) -> dict[str, Any]:
    f = task.fields
    cells = [None if f.get(name) in (None, "") else f.get(name) for name in _TIMELINE_COLUMNS]
    link = _link(task)
    return {
        "href": link.href,
        "title": link.title,
        "date": f.get("due_date") or _when(task.updated_at),
        "cells": cells,
    }


def render_record(
    record: CrmRecord,
    fields: Sequence[FieldInfo],
    related: Sequence[CrmRecord],
    labels: Mapping[str, str],
    timeline: Sequence[CrmRecord] | None,
) -> str:
    """One record's page; ``timeline`` None leaves the activity section out."""
    label = labels.get(record.type, record.type)
    return _render(
        "record.html",
        f"{record.title} ({label})",
        record=record,
        label=label,
        updated=_when(record.updated_at),
        fields=_fields(record, fields, related),
        related=[_link(item, labels.get(item.type, item.type)) for item in related],
        timeline=None if timeline is None else [_task(task) for task in timeline],
    )


def render_not_found(record_type: str, record_id: str) -> str:
    """The 404 page for a record (or record type) the demo CRM does not have."""
    return _render(
        "error.html",
        "Not found",
        heading="Record not found",
        message="The demo CRM has no record",
        record=f"{record_type}/{record_id}",
        error=error_body(404, "not_found", "No such record."),
    )


def render_error(error: dict[str, Any]) -> str:
    """The page for any other error (``error`` a :func:`bot.api.errors.error_body`)."""
    return _render(
        "error.html",
        "Error",
        heading="Demo CRM unavailable",
        message=error["message"],
        record="",
        error=error,
    )


# --- handlers -----------------------------------------------------------------------------


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
    )


def _timeline_reader(adapter: CrmAdapter) -> TimelineReader | None:
    """The adapter's ``timeline(type, id)`` when it has one (the demo CRM does; the
    protocol does not require it)."""
    reader = getattr(adapter, "timeline", None)
    return reader if callable(reader) else None


async def _all_records(adapter: CrmAdapter, record_type: str) -> list[CrmRecord]:
    # "id notequals ''" matches every record of the type: the demo's dynamic search
    # accepts the id as a field, and a CRM has no "list all" verb in the protocol.
    query = DynamicSearch(
        record_type=record_type,
        limit=_LIST_LIMIT,
        conditions=[Condition(field="id", operator="notequals", value="")],
    )
    return await adapter.search(query)


def _answering_errors(handler: _Page) -> _Page:
    """A page handler whose ``AppError`` (e.g. no demo CRM behind the default configuration)
    is answered as an HTML page showing the error body, not as the API's JSON."""

    @functools.wraps(handler)
    async def page(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except AppError as exc:
            body = error_body(exc.http_status, exc.code, exc.detail or exc.code)
            return _html(render_error(body), status=exc.http_status)

    return page


def add_routes(app: web.Application, adapter_provider: AdapterProvider) -> None:
    """Mount the demo CRM pages under ``/demo-crm``. ``adapter_provider`` returns the demo
    adapter of the default configuration each time a page is asked for."""

    async def index(request: web.Request) -> web.Response:
        adapter = await adapter_provider()
        listed = []
        for info in await adapter.list_record_types():
            listed.append((info.name, info.label, await _all_records(adapter, info.name)))
        return _html(render_index(listed))

    async def record(request: web.Request) -> web.Response:
        record_type, record_id = request.match_info["type"], request.match_info["id"]
        adapter = await adapter_provider()
        try:
            found = await adapter.get(record_type, record_id)
            fields = await adapter.list_fields(record_type)
        except (CrmNotFoundError, CrmRejectedError):  # unknown record, or unknown type
            return _html(render_not_found(record_type, record_id), status=404)
        types = await adapter.list_record_types()
        labels = {info.name: info.label for info in types}
        related = await adapter.related(found, limit=_RELATED_LIMIT)
        reader = _timeline_reader(adapter)
        supports = any(info.name == record_type and info.supports_timeline for info in types)
        timeline = await reader(record_type, record_id) if reader and supports else None
        return _html(render_record(found, fields, related, labels, timeline))

    async def to_index(request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect(f"{PREFIX}/")

    app.router.add_get(PREFIX, to_index)
    app.router.add_get(f"{PREFIX}/", _answering_errors(index))
    app.router.add_get(PREFIX + "/{type}/{id}", _answering_errors(record))
