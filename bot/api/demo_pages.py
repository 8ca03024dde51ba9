"""A read-only web view of the demo CRM, so the card's "Open in CRM" links work in development.

The demo adapter links records as ``{base_url}/{type}/{id}`` with the default base
``http://localhost:3978/demo-crm``; these routes answer those links on the service itself:

* ``GET /demo-crm/``           every record type with its count and links to its records
* ``GET /demo-crm/{type}/{id}`` one record: its fields (labelled from ``list_fields``), related
  records and, when the adapter keeps them, the tasks on its timeline

Plain server-rendered HTML: every value goes through ``html.escape``, no JavaScript (the
Content-Security-Policy forbids scripts outright), a little inline CSS. The page builders are
pure functions of the records; the handlers only fetch. Mount it in development only.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from urllib.parse import quote

from aiohttp import web

from crm.errors import CrmNotFoundError, CrmRejectedError
from crm.models import Condition, CrmRecord, DynamicSearch, FieldInfo, FieldType, FieldValue
from crm.protocol import CrmAdapter

__all__ = [
    "add_routes",
    "AdapterProvider",
    "PREFIX",
    "render_index",
    "render_record",
    "render_not_found",
]

AdapterProvider = Callable[[], Awaitable[CrmAdapter]]
TimelineReader = Callable[[str, str], Awaitable[list[CrmRecord]]]

PREFIX = "/demo-crm"
_LIST_LIMIT = 200  # the demo adapter's own cap on one search
_RELATED_LIMIT = 25
_EMPTY = '<span class="muted">—</span>'

# No scripts, no external anything: only the inline stylesheet may apply.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#f5f6f8}
header{background:#2b5797;color:#fff;padding:.6rem 1.5rem}
header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:60rem;margin:1.5rem auto;padding:0 1.5rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
section{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:.5rem 1rem 1rem;
margin-bottom:1rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #eaeef2}
th{width:14rem;color:#59636e;font-weight:500}
table.timeline th{width:auto}
section h2{margin-top:.5rem}
td.text{white-space:pre-wrap;overflow-wrap:anywhere}
a{color:#0b5cad}
.muted{color:#8c959f}
.kind{color:#59636e;font-size:.85rem;margin-left:.4rem}
ul{margin:.3rem 0;padding-left:1.2rem}
"""


# --- pure page builders -------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def record_path(record_type: str, record_id: str) -> str:
    """The page of one record on this server (path segments percent-encoded)."""
    return f"{PREFIX}/{quote(record_type, safe='')}/{quote(record_id, safe='')}"


def _link(record: CrmRecord) -> str:
    return f'<a href="{_e(record_path(record.type, record.id))}">{_e(record.title)}</a>'


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · Demo CRM</title><style>{_STYLE}</style></head>"
        f'<body><header><a href="{PREFIX}/">Demo CRM</a></header>'
        f"<main>{body}</main></body></html>\n"
    )


def render_index(types: Sequence[tuple[str, str, list[CrmRecord]]]) -> str:
    """The start page: for each (type name, label, records) its count and record links."""
    sections = []
    for name, label, records in types:
        count = f"{len(records)}+" if len(records) >= _LIST_LIMIT else str(len(records))
        items = "".join(f"<li>{_link(record)}</li>" for record in records)
        listing = f"<ul>{items}</ul>" if items else f"<p>{_EMPTY}</p>"
        sections.append(
            f'<section><h2>{_e(label)} <span class="kind">{_e(name)} · '
            f"{count}</span></h2>{listing}</section>"
        )
    return _page("Records", "<h1>Records</h1>" + "".join(sections))


def _format_value(
    info: FieldInfo,
    value: FieldValue,
    parents: Mapping[str, str],
    titles: Mapping[tuple[str, str], str],
) -> str:
    """A field value as HTML: references to known parents as links (named by the parent's
    title when it is among the related records), URLs as links."""
    if value is None or value == "":
        return _EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value)
    if info.type == FieldType.REFERENCE:
        parent_type = next((kind for kind, pid in parents.items() if pid == text), None)
        if parent_type is not None:
            name = titles.get((parent_type, text), text)
            return f'<a href="{_e(record_path(parent_type, text))}">{_e(name)}</a>'
    if info.type == FieldType.URL and text.lower().startswith(("https://", "http://")):
        return f'<a href="{_e(text)}" rel="noreferrer">{_e(text)}</a>'
    return _e(text)


def _fields_table(
    record: CrmRecord, fields: Iterable[FieldInfo], related: Sequence[CrmRecord]
) -> str:
    titles = {(item.type, item.id): item.title for item in related}
    rows = []
    for info in fields:
        value = _format_value(info, record.fields.get(info.name), record.parent_ids, titles)
        rows.append(f'<tr><th scope="row">{_e(info.label)}</th><td class="text">{value}</td></tr>')
    return f"<table>{''.join(rows)}</table>"


def _related_list(related: Sequence[CrmRecord], labels: Mapping[str, str]) -> str:
    if not related:
        return f"<p>{_EMPTY}</p>"
    items = "".join(
        f'<li>{_link(item)}<span class="kind">{_e(labels.get(item.type, item.type))}</span></li>'
        for item in related
    )
    return f"<ul>{items}</ul>"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _timeline_table(tasks: Sequence[CrmRecord]) -> str:
    if not tasks:
        return f"<p>{_EMPTY}</p>"
    head = (
        "<tr><th>Subject</th><th>Date</th><th>Status</th><th>Direction</th>"
        "<th>Duration (s)</th><th>Result</th><th>Agent</th></tr>"
    )
    rows = []
    for task in tasks:
        f = task.fields
        cells = [_link(task), _e(f.get("due_date") or _when(task.updated_at))]
        for name in (
            "status",
            "call_direction",
            "call_duration_seconds",
            "call_disposition",
            "agent_name",
        ):
            value = f.get(name)
            cells.append(_EMPTY if value is None or value == "" else _e(value))
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f'<table class="timeline">{head}{"".join(rows)}</table>'


def render_record(
    record: CrmRecord,
    fields: Sequence[FieldInfo],
    related: Sequence[CrmRecord],
    labels: Mapping[str, str],
    timeline: Sequence[CrmRecord] | None,
) -> str:
    """One record's page; ``timeline`` None leaves the activity section out."""
    label = labels.get(record.type, record.type)
    updated = f" · updated {_e(_when(record.updated_at))} UTC" if record.updated_at else ""
    body = [
        f"<h1>{_e(record.title)}</h1>",
        f'<p class="muted">{_e(label)} · {_e(record.id)}{updated}</p>',
        f"<section><h2>Details</h2>{_fields_table(record, fields, related)}</section>",
        f"<section><h2>Related</h2>{_related_list(related, labels)}</section>",
    ]
    if timeline is not None:
        body.append(f"<section><h2>Activity history</h2>{_timeline_table(timeline)}</section>")
    return _page(f"{record.title} ({label})", "".join(body))


def render_not_found(record_type: str, record_id: str) -> str:
    """The 404 page for a record (or record type) the demo CRM does not have."""
    return _page(
        "Not found",
        (
            "<h1>Record not found</h1>"
            f"<p>The demo CRM has no record <code>{_e(record_type)}/{_e(record_id)}</code>.</p>"
            f'<p><a href="{PREFIX}/">All records</a></p>'
        ),
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
    app.router.add_get(f"{PREFIX}/", index)
    app.router.add_get(PREFIX + "/{type}/{id}", record)
