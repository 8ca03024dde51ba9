"""Console sign-in: an admin key is exchanged for a session cookie (random token; the
database keeps only its SHA-256, the actor, the CSRF token and the expiry), so sessions hold
across ``serve --workers N`` and sign-out ends them for good.

The cookie is HTTP-only, ``SameSite=Strict``, ``Path=/admin``, ``Secure`` whenever the
console is reached over https (or ``CUSTOMER_CARD_PUBLIC_URL`` is https), and expires with
the session. Every form carries the session's CSRF token (synchronizer token); the sign-in
form, before any session, a double-submit token of its own."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import AppError

from ..api.security import key_allows, keys_for_scope
from ..audit import acting_as, key_actor
from ..services import SERVICES
from ..storage.admin_tables import ConsoleSessionRow
from .render import page

__all__ = [
    "ConsoleSession",
    "Page",
    "console_page",
    "open_session",
    "safe_next",
    "sign_in",
    "sign_in_form",
    "sign_out",
]

COOKIE = "cc_console"
LOGIN_COOKIE = "cc_console_login"
LIFETIME = timedelta(hours=8)
PREFIX = "/admin"


@dataclass(frozen=True)
class ConsoleSession:
    actor: str
    csrf: str


Page = Callable[[web.Request, ConsoleSession], Awaitable[web.StreamResponse]]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _find(sessions: async_sessionmaker[AsyncSession], token: str) -> ConsoleSession | None:
    async with sessions() as session, session.begin():
        row = await session.get(ConsoleSessionRow, _hash(token))
        if row is None:
            return None
        if _aware(row.expires_at) <= datetime.now(UTC):
            await session.delete(row)
            return None
        return ConsoleSession(actor=row.actor, csrf=row.csrf)


def _secure(request: web.Request) -> bool:
    settings = request.app[SERVICES].settings
    return request.secure or settings.public_url.startswith("https://")


def _cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(LIFETIME.total_seconds()),
        path=PREFIX,
        httponly=True,
        secure=_secure(request),
        samesite="Strict",
    )


def safe_next(target: str) -> str:
    """Only paths of the console itself (no open redirect)."""
    if target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def console_page(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A console handler: a session is required (else the sign-in page), a POST must carry
    the session's CSRF token, and changes are recorded under the session's actor."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(COOKIE, "")
        session = await _find(request.app[SERVICES].sessions, token) if token else None
        if session is None:
            if request.method == "GET":
                raise web.HTTPSeeOther(f"{PREFIX}/sign-in?next={request.path_qs}")
            return page(request, "error.html", {"message_key": "session_expired"}, status=401)
        if request.method == "POST":
            form = await request.post()
            given = str(form.get("csrf", ""))
            if not hmac.compare_digest(given.encode(), session.csrf.encode()):
                return page(request, "error.html", {"message_key": "csrf_failed"}, status=403)
        with acting_as(session.actor):
            try:
                return await handler(request, session)
            except AppError as exc:  # e.g. an unknown configuration: a page, not JSON
                values = {"message": exc.detail or exc.code, "session": session}
                return page(request, "error.html", values, status=exc.http_status)

    return guarded


async def sign_in_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    login_csrf = secrets.token_urlsafe(24)
    settings = request.app[SERVICES].settings
    no_keys = not settings.admin_api_keys and not settings.console_oidc
    values: dict[str, Any] = {
        "csrf": login_csrf,
        "error": error or ("no_admin_keys" if no_keys else ""),
        "next": safe_next(request.query.get("next", "")),
        "microsoft": settings.console_oidc,
    }
    response = page(request, "sign_in.html", values, status=status)
    _cookie(response, request, LOGIN_COOKIE, login_csrf)
    return response


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    given = str(form.get("csrf", ""))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return await sign_in_form(request, "csrf_failed", status=403)
    key = str(form.get("key", "")).strip()
    settings = request.app[SERVICES].settings
    if not key or not key_allows(key, keys_for_scope(settings, "admin")):
        return await sign_in_form(request, "bad_key", status=401)
    response = web.HTTPSeeOther(safe_next(str(form.get("next", ""))))
    await open_session(request, response, "console, " + key_actor(key))
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    raise response


async def open_session(request: web.Request, response: web.StreamResponse, actor: str) -> None:
    """A new session for ``actor``; its cookie goes out with ``response``."""
    token = secrets.token_urlsafe(32)
    async with request.app[SERVICES].sessions() as session, session.begin():
        now = datetime.now(UTC)
        await session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
        session.add(
            ConsoleSessionRow(
                token_hash=_hash(token),
                actor=actor[:200],
                csrf=secrets.token_urlsafe(24),
                created_at=now,
                expires_at=now + LIFETIME,
            )
        )
    _cookie(response, request, COOKIE, token)


@console_page
async def sign_out(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    token = request.cookies.get(COOKIE, "")
    async with request.app[SERVICES].sessions() as db, db.begin():
        await db.execute(
            delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == _hash(token))
        )
    response = web.HTTPSeeOther(f"{PREFIX}/sign-in")
    response.del_cookie(COOKIE, path=PREFIX)
    raise response
