"""Pages out: the Jinja2 templates in ``bot/console/templates`` (autoescaped), the
console's text in the browser's language (English or German, by ``Accept-Language``), the
security headers every page carries, and the static files shipped in the package."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

from .locales import de, en

__all__ = ["CATALOGUES", "HEADERS", "language", "page", "static_file", "translator"]

CATALOGUES: dict[str, dict[str, str]] = {"en": en.MESSAGES, "de": de.MESSAGES}

# Scripts and styles only from this service (the package's own files); no inline script.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".txt": "text/plain"}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.console", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES.filters["tojson_pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)


def language(accept_language: str) -> str:
    """``de`` when German is the browser's most preferred of the two, else ``en``.

    >>> language("de-DE,de;q=0.9,en;q=0.8"), language("fr, en;q=0.5, de;q=0.4"), language("")
    ('de', 'en', 'en')
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = tag.strip().split("-", 1)[0].lower()
        if code in CATALOGUES and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else "en"


def translator(lang: str) -> Any:
    catalogue = CATALOGUES[lang]

    def t(key: str, **params: object) -> str:
        text = catalogue.get(key) or en.MESSAGES.get(key, key)
        return text.format(**params) if params else text

    return t


def page(
    request: web.Request, template: str, values: Mapping[str, Any], status: int = 200
) -> web.Response:
    lang = language(request.headers.get("Accept-Language", ""))
    html = _TEMPLATES.get_template(template).render(
        **{"session": None, **values},
        lang=lang,
        t=translator(lang),
        path=request.path,
        query=request.query,
    )
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


async def static_file(request: web.Request) -> web.Response:
    """A file of ``bot/console/static`` (the package's own; nothing else is reachable)."""
    name = request.match_info["name"]
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    root = resources.files("bot.console") / "static"
    parts = name.split("/")
    if suffix not in _STATIC_TYPES or any(p in ("", ".", "..") for p in parts):
        raise web.HTTPNotFound()
    target = root.joinpath(*parts)
    if not target.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=target.read_bytes(),
        content_type=_STATIC_TYPES[suffix],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
