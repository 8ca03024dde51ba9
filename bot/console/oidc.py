"""Microsoft (Entra ID) sign-in to the console: OpenID Connect, authorization code flow with
PKCE (S256) and a confidential client, as the Microsoft identity platform documents it
(learn.microsoft.com/entra/identity-platform/v2-protocols-oidc). The ID token is checked
with PyJWT against the issuer's published keys (signature, issuer, audience, expiry, nonce);
an admin is whoever carries one of ``CUSTOMER_CARD_CONSOLE_ADMIN_ROLES`` in ``roles`` or
``CUSTOMER_CARD_CONSOLE_ADMIN_GROUPS`` in ``groups``.

The flow's state, nonce and code verifier wait in an HTTP-only cookie (``SameSite=Lax``: the
identity provider's redirect back is a cross-site navigation) for ten minutes. The callback
answers a page that moves on by itself, so the ``SameSite=Strict`` session cookie goes with
the next request (a redirect chain that began on another site would leave it out)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from aiohttp import web

from ..services import SERVICES
from ..settings import Settings
from .auth import PREFIX, open_session, safe_next, sign_in_form
from .render import HEADERS

__all__ = ["routes"]

log = logging.getLogger(__name__)

FLOW_COOKIE = "cc_console_oidc"
CALLBACK = PREFIX + "/oidc/callback"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _redirect_uri(settings: Settings) -> str:
    return settings.effective_public_url + CALLBACK


async def _discovery(http: httpx.AsyncClient, settings: Settings) -> dict[str, Any]:
    url = settings.console_oidc_authority.rstrip("/") + "/.well-known/openid-configuration"
    response = await http.get(url, timeout=10)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


async def start(request: web.Request) -> web.StreamResponse:
    settings = request.app[SERVICES].settings
    if not settings.console_oidc:
        raise web.HTTPNotFound()
    meta = await _discovery(request.app[SERVICES].directory.http, settings)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    query = {
        "client_id": settings.console_oidc_client_id,
        "response_type": "code",
        "redirect_uri": _redirect_uri(settings),
        "response_mode": "query",
        "scope": "openid profile email",
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    response = web.HTTPSeeOther(meta["authorization_endpoint"] + "?" + urlencode(query))
    flow = {"state": state, "nonce": nonce, "verifier": verifier}
    flow["next"] = safe_next(request.query.get("next", ""))
    response.set_cookie(
        FLOW_COOKIE,
        _b64(json.dumps(flow).encode()),
        max_age=600,
        path=PREFIX + "/oidc",
        httponly=True,
        secure=request.secure or settings.public_url.startswith("https://"),
        samesite="Lax",
    )
    raise response


def _flow(request: web.Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLOW_COOKIE, "")
    try:
        flow = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        return None
    return flow if isinstance(flow, dict) else None


async def _id_token_claims(
    http: httpx.AsyncClient, settings: Settings, code: str, verifier: str
) -> dict[str, Any]:
    meta = await _discovery(http, settings)
    answer = await http.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "client_id": settings.console_oidc_client_id,
            "client_secret": settings.console_oidc_client_secret.get_secret_value(),
            "code": code,
            "redirect_uri": _redirect_uri(settings),
            "code_verifier": verifier,
        },
        timeout=10,
    )
    answer.raise_for_status()
    token = answer.json()["id_token"]
    keys = (await http.get(meta["jwks_uri"], timeout=10)).json()
    key = jwt.PyJWKSet.from_dict(keys)[jwt.get_unverified_header(token)["kid"]]
    claims: dict[str, Any] = jwt.decode(
        token,
        key=key.key,
        algorithms=["RS256"],
        audience=settings.console_oidc_client_id,
        issuer=meta["issuer"],
        options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
    )
    return claims


def is_admin(settings: Settings, claims: dict[str, Any]) -> bool:
    roles = set(claims.get("roles") or [])
    groups = set(claims.get("groups") or [])
    return bool(
        roles & set(settings.console_admin_roles) or groups & set(settings.console_admin_groups)
    )


async def callback(request: web.Request) -> web.StreamResponse:
    settings = request.app[SERVICES].settings
    flow = _flow(request)
    state = request.query.get("state", "")
    if not settings.console_oidc or flow is None:
        return await sign_in_form(request, "oidc_failed", status=400)
    if not hmac.compare_digest(state.encode(), flow.get("state", "").encode()):
        return await sign_in_form(request, "oidc_failed", status=400)
    if "code" not in request.query:  # the user cancelled, or the provider refused
        log.info("Console sign-in: the identity provider answered %s", request.query.get("error"))
        return await sign_in_form(request, "oidc_failed", status=400)
    try:
        claims = await _id_token_claims(
            request.app[SERVICES].directory.http,
            settings,
            request.query["code"],
            flow.get("verifier", ""),
        )
    except (httpx.HTTPError, jwt.PyJWTError, KeyError, ValueError) as exc:
        log.warning("Console sign-in: the ID token was refused (%s)", type(exc).__name__)
        return await sign_in_form(request, "oidc_failed", status=400)
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), flow["nonce"].encode()):
        return await sign_in_form(request, "oidc_failed", status=400)
    if not is_admin(settings, claims):
        return await sign_in_form(request, "oidc_not_admin", status=403)
    who = claims.get("preferred_username") or claims.get("email") or claims.get("oid", "")
    target = html.escape(safe_next(flow.get("next", "")), quote=True)
    # a page that moves on: the Strict session cookie then goes with the next request
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}"><title>…</title></head>'
        f'<body><a href="{target}">Continue</a></body></html>'
    )
    response = web.Response(text=page, content_type="text/html", headers=HEADERS)
    await open_session(request, response, f"console, {who}")
    response.del_cookie(FLOW_COOKIE, path=PREFIX + "/oidc")
    return response


def routes() -> list[web.RouteDef]:
    return [web.get(PREFIX + "/oidc/start", start), web.get(CALLBACK, callback)]
