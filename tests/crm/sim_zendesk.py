"""A local Zendesk Support API for tests: an aiohttp app on loopback.

Speaks the wire format the adapter relies on: ``{"user": {...}}`` envelopes, the Search API
with ``next_page`` offset paging, cursor paging (``page[size]``, ``links.next``,
``meta.has_more``), OAuth client-credentials tokens with an expired-token 401, API-token
basic auth, 429 with ``Retry-After``, and Zendesk's error bodies. The search parser covers
the subset the adapter sends: ``type:x``, ``field:"phrase"``, ``-field:"phrase"`` and the
phone form ``field:*digits`` (digits suffix, formatting ignored, as Zendesk documents).
A ticket update ("Update Ticket") sets the standard fields and the ``custom_fields`` it
lists, adds its ``comment`` and answers with the ``audit`` (a ``Comment`` event); a closed
ticket refuses every update (422 ``RecordInvalid``, ``details.status``).
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.crm.dataset import PEOPLE

CLIENT_ID = "customer_card"
CLIENT_SECRET = "zd-secret-value"
API_EMAIL = "integration@example.com"
API_TOKEN = "zd-api-token-value"
TOKEN_LIFETIME_MIN, TOKEN_LIFETIME_MAX = 300, 172_800  # Zendesk: more than 300 s, at most 2 days
NOW = "2025-01-01T00:00:00Z"


@dataclass
class ZendeskState:
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[str, bool] = field(default_factory=dict)  # token -> still valid
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path_qs)
    throttle: list[float] = field(default_factory=list)  # Retry-After of the next 429s
    failures: list[int] = field(default_factory=list)  # statuses to answer next
    delay: float = 0.0  # seconds before answering API calls
    next_id: int = 1000
    unfiltered: set[str] = field(
        default_factory=set
    )  # tables whose look-ups ignore the filter: a wrong reply

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def expire_tokens(self) -> None:
        """Every issued token now gets the expired-token 401 (as after ``expires_in``)."""
        for token in self.tokens:
            self.tokens[token] = False

    def seed(self) -> None:
        orgs: dict[str, int] = {}
        for person in PEOPLE:
            if person.company and person.company not in orgs:
                org_id = self.new_id()
                orgs[person.company] = org_id
                self.organizations[org_id] = {
                    "id": org_id,
                    "name": person.company,
                    "details": "",
                    "notes": "",
                    "external_id": None,
                    "domain_names": [],
                    "organization_fields": {},
                    "updated_at": NOW,
                }
            user_id = self.new_id()
            self.users[user_id] = {
                "id": user_id,
                "name": person.full_name,
                "email": person.email,
                "phone": person.phone,
                "role": "end-user",
                "notes": "",
                "details": "",
                "external_id": None,
                "organization_id": orgs.get(person.company),
                "user_fields": {"mobile": person.mobile or None},
                "updated_at": NOW,
            }
        anna = next(u for u in self.users.values() if u["name"] == "Anna Schmidt")
        ticket_id = self.new_id()
        self.tickets[ticket_id] = {
            "id": ticket_id,
            "subject": "Delivery delayed",
            "description": "Where is it?",
            "status": "open",
            "priority": "normal",
            "type": "problem",
            "requester_id": anna["id"],
            "organization_id": anna["organization_id"],
            "external_id": None,
            "tags": [],
            "custom_fields": [],
            "updated_at": NOW,
        }
        self.comments[ticket_id] = [{"id": self.new_id(), "body": "Where is it?", "public": True}]


# --- search query evaluation -------------------------------------------------------------

_TERM = re.compile(r'(-?)([A-Za-z_][A-Za-z0-9_.]*):("([^"]*)"|\*?\d+|[^\s"]+)|(\S+)')


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def parse_query(query: str) -> list[tuple[bool, str, str]]:
    """(negated, field, value) terms; a bare word is field ``*``. Rejects stray quotes."""
    terms: list[tuple[bool, str, str]] = []
    rest = query
    for match in _TERM.finditer(query):
        rest = rest.replace(match.group(0), "", 1)
        if match.group(5) is not None:
            if '"' in match.group(5):
                raise ValueError("unbalanced quote")
            terms.append((False, "*", match.group(5)))
        else:
            value = match.group(4) if match.group(4) is not None else match.group(3)
            terms.append((match.group(1) == "-", match.group(2), value))
    if rest.strip():
        raise ValueError("unparsed input")
    return terms


def _value_of(item: dict[str, Any], name: str) -> Any:
    if name in item:
        return item[name]
    for extra in ("user_fields", "organization_fields"):
        if name in (item.get(extra) or {}):
            return item[extra][name]
    return None


def _term_matches(item: dict[str, Any], name: str, value: str) -> bool:
    if name == "*":
        return any(_words(value) in _words(str(v)) for v in item.values() if isinstance(v, str))
    stored = _value_of(item, name)
    if stored is None:
        return False
    if isinstance(stored, list):
        stored = " ".join(str(s) for s in stored)
    if value.startswith("*"):
        wanted = _digits(value)
        return bool(wanted) and _digits(str(stored)).endswith(wanted)
    if name == "phone" and value.isdigit():
        return _digits(str(stored)) == value
    phrase = _words(value)
    return bool(phrase) and f" {phrase} " in f" {_words(str(stored))} "


def evaluate(state: ZendeskState, query: str) -> list[dict[str, Any]]:
    terms = parse_query(query)
    types = [v for neg, f, v in terms if f == "type"]
    pools = {"user": state.users, "organization": state.organizations, "ticket": state.tickets}
    results = []
    for kind, pool in pools.items():
        if types and kind not in types:
            continue
        for item in pool.values():
            if all(_term_matches(item, f, v) != neg for neg, f, v in terms if f != "type"):
                results.append({**item, "result_type": kind})
    return results


# --- the app -------------------------------------------------------------------------------


def _error(status: int, error: str, description: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "description": description, **extra}, status=status)


def _not_found() -> web.Response:
    return _error(404, "RecordNotFound", "Not found")


def _cursor_page(request: web.Request, items: list[dict[str, Any]], key: str) -> web.Response:
    size = int(request.query.get("page[size]", "100"))
    after = request.query.get("page[after]")
    start = int(base64.b64decode(after).decode()) if after else 0
    chunk = items[start : start + size]
    more = start + size < len(items)
    body: dict[str, Any] = {key: chunk, "meta": {"has_more": more}, "links": {"next": None}}
    if more:
        cursor = base64.b64encode(str(start + size).encode()).decode()
        body["links"]["next"] = str(
            request.url.with_query({"page[size]": str(size), "page[after]": cursor})
        )
    return web.json_response(body)


def create_app(state: ZendeskState) -> web.Application:
    """The simulator app; tests drive ``state`` directly."""

    @web.middleware
    async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/api/v2/"):
            return await handler(request)
        state.requests.append((request.method, request.path_qs))
        if state.delay:
            await asyncio.sleep(state.delay)
        if state.throttle:
            wait = state.throttle.pop(0)
            return web.json_response(
                {
                    "error": "APIRateLimitExceeded",
                    "description": "Number of allowed API requests per minute exceeded",
                },
                status=429,
                headers={"Retry-After": str(int(wait))},
            )
        if state.failures:
            status = state.failures.pop(0)
            return web.Response(status=status, text="<html>Internal Server Error</html>")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            if not state.tokens.get(auth[7:]):
                return web.json_response(
                    {
                        "error": "invalid_token",
                        "error_description": "The access token "
                        "provided is expired, revoked, malformed or invalid for other reasons.",
                    },
                    status=401,
                )
        elif auth.startswith("Basic "):
            expected = base64.b64encode(f"{API_EMAIL}/token:{API_TOKEN}".encode()).decode()
            if auth[6:] != expected:
                return web.json_response({"error": "Couldn't authenticate you"}, status=401)
        else:
            return web.json_response({"error": "Couldn't authenticate you"}, status=401)
        return await handler(request)

    routes = web.RouteTableDef()

    @routes.post("/oauth/tokens")
    async def token(request: web.Request) -> web.Response:
        body = await request.json()
        state.token_requests.append(body)
        if body.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication "
                    "failed due to unknown client, no client authentication included, or "
                    "unsupported authentication method.",
                },
                status=401,
            )
        lifetime = body.get("expires_in")
        if lifetime is not None and not (
            isinstance(lifetime, int) and TOKEN_LIFETIME_MIN < lifetime <= TOKEN_LIFETIME_MAX
        ):
            # Zendesk refuses a lifetime of 300 s or less, or over two days
            return web.json_response(
                {
                    "error": "invalid_request",
                    "error_description": "expires_in must be more than 300 seconds "
                    "and at most 172800 seconds.",
                },
                status=400,
            )
        value = secrets.token_hex(16)
        state.tokens[value] = True
        answer: dict[str, Any] = {
            "access_token": value,
            "token_type": "bearer",
            "scope": body.get("scope", "read"),
        }
        if body.get("expires_in"):
            answer["expires_in"] = body["expires_in"]
        return web.json_response(answer)

    @routes.get("/api/v2/users/me")
    async def me(request: web.Request) -> web.Response:
        return web.json_response({"user": {"id": 1, "name": "Integration", "role": "admin"}})

    @routes.get("/api/v2/search")
    async def search(request: web.Request) -> web.Response:
        try:
            results = evaluate(state, request.query.get("query", ""))
        except ValueError as exc:
            return _error(400, "InvalidSearch", f"Invalid search: {exc}")
        per_page = min(100, int(request.query.get("per_page", "100")))
        page = int(request.query.get("page", "1"))
        if page * per_page > 1000:
            return _error(422, "InvalidPaginationParameter", "Result window too large")
        chunk = results[(page - 1) * per_page : page * per_page]
        next_page = None
        if page * per_page < len(results):
            next_page = str(
                request.url.update_query({"page": str(page + 1), "per_page": str(per_page)})
            )
        return web.json_response(
            {"results": chunk, "count": len(results), "next_page": next_page, "previous_page": None}
        )

    def pool_of(kind: str) -> dict[int, dict[str, Any]]:
        return {
            "users": state.users,
            "organizations": state.organizations,
            "tickets": state.tickets,
        }[kind]

    @routes.get(r"/api/v2/{kind:users|organizations|tickets}/{id:\d+}")
    async def show(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        item = pool_of(kind).get(int(request.match_info["id"]))
        return web.json_response({kind[:-1]: item}) if item else _not_found()

    def validate(kind: str, item: dict[str, Any], own_id: int | None) -> web.Response | None:
        if kind == "users":
            if not item.get("name"):
                return _error(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={
                        "name": [{"description": "Name: cannot be blank", "error": "BlankValue"}]
                    },
                )
            email = (item.get("email") or "").casefold()
            if email and any(
                (u.get("email") or "").casefold() == email and uid != own_id
                for uid, u in state.users.items()
            ):
                return _error(
                    422,
                    "RecordInvalid",
                    "Record validation errors",
                    details={
                        "email": [
                            {
                                "description": f"Email: {item['email']} is already being "
                                "used by another user",
                                "error": "DuplicateValue",
                            }
                        ]
                    },
                )
        if kind == "tickets" and not item.get("comment") and own_id is None:
            return _error(
                422,
                "RecordInvalid",
                "Record validation errors",
                details={"base": [{"description": "Description: cannot be blank"}]},
            )
        if kind == "organizations" and not item.get("name"):
            return _error(422, "RecordInvalid", "Record validation errors")
        return None

    def add_comment(ticket_id: int, comment: dict[str, Any]) -> dict[str, Any]:
        entry = {
            "id": state.new_id(),
            "body": comment.get("body", ""),
            "public": comment.get("public", True),
        }
        state.comments.setdefault(ticket_id, []).append(entry)
        return entry

    @routes.post(r"/api/v2/{kind:users|organizations|tickets}")
    async def create(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        item = dict((await request.json()).get(kind[:-1]) or {})
        problem = validate(kind, item, None)
        if problem:
            return problem
        item["id"] = state.new_id()
        item["updated_at"] = NOW
        if kind == "tickets":
            comment = item.pop("comment")
            item.setdefault("requester_id", 1)
            item.setdefault("status", "new")
            item.setdefault("tags", [])
            item.setdefault("custom_fields", [])
            item["description"] = comment.get("body", "")
            add_comment(item["id"], comment)
        elif kind == "users":
            item.setdefault("role", "end-user")
            item.setdefault("user_fields", {})
        pool_of(kind)[item["id"]] = item
        return web.json_response({kind[:-1]: item}, status=201)

    @routes.put(r"/api/v2/{kind:users|organizations|tickets}/{id:\d+}")
    async def update(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        item = pool_of(kind).get(int(request.match_info["id"]))
        if item is None:
            return _not_found()
        if kind == "tickets" and item.get("status") == "closed":
            # a closed ticket takes no updates, not even a comment
            return _error(
                422,
                "RecordInvalid",
                "Record validation errors",
                details={"status": [{"description": "Status: closed prevents ticket update"}]},
            )
        changes = dict((await request.json()).get(kind[:-1]) or {})
        merged = {**item, **changes}
        for extra in ("user_fields", "organization_fields"):
            if extra in changes:
                merged[extra] = {**(item.get(extra) or {}), **changes[extra]}
        if "custom_fields" in changes:  # the fields listed change, the others stay
            values = {f["id"]: f["value"] for f in item.get("custom_fields") or []}
            values.update({f["id"]: f.get("value") for f in changes["custom_fields"]})
            merged["custom_fields"] = [{"id": k, "value": v} for k, v in values.items()]
        problem = validate(kind, merged, item["id"])
        if problem:
            return problem
        events = []
        if kind == "tickets" and "comment" in merged:
            events.append({"type": "Comment", **add_comment(item["id"], merged.pop("comment"))})
        item.clear()
        item.update(merged)
        body: dict[str, Any] = {kind[:-1]: item}
        if kind == "tickets":
            body["audit"] = {"id": state.new_id(), "events": events}
        return web.json_response(body)

    @routes.get("/api/v2/tickets")
    async def list_tickets(request: web.Request) -> web.Response:
        external = request.query.get("external_id")
        tickets = [
            t
            for t in state.tickets.values()
            if external is None or "tickets" in state.unfiltered or t.get("external_id") == external
        ]
        return _cursor_page(request, tickets, "tickets")

    @routes.get(r"/api/v2/tickets/{id:\d+}/comments")
    async def comments(request: web.Request) -> web.Response:
        ticket_id = int(request.match_info["id"])
        if ticket_id not in state.tickets:
            return _not_found()
        return _cursor_page(request, state.comments.get(ticket_id, []), "comments")

    @routes.get(r"/api/v2/users/{id:\d+}/tickets/requested")
    async def requested(request: web.Request) -> web.Response:
        user_id = int(request.match_info["id"])
        if user_id not in state.users:
            return _not_found()
        tickets = [t for t in state.tickets.values() if t.get("requester_id") == user_id]
        return _cursor_page(request, tickets, "tickets")

    @routes.get(r"/api/v2/organizations/{id:\d+}/users")
    async def org_users(request: web.Request) -> web.Response:
        org_id = int(request.match_info["id"])
        if org_id not in state.organizations:
            return _not_found()
        users = [u for u in state.users.values() if u.get("organization_id") == org_id]
        return _cursor_page(request, users, "users")

    @routes.get("/api/v2/user_fields")
    async def user_fields(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "user_fields": [
                    {"id": 1, "key": "mobile", "title": "Mobile", "type": "text", "active": True},
                    {"id": 2, "key": "vip", "title": "VIP", "type": "checkbox", "active": True},
                ]
            }
        )

    @routes.get("/api/v2/organization_fields")
    async def organization_fields(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "organization_fields": [
                    {
                        "id": 3,
                        "key": "segment",
                        "title": "Segment",
                        "type": "dropdown",
                        "active": True,
                        "custom_field_options": [{"name": "SMB", "value": "smb"}],
                    },
                ]
            }
        )

    @routes.get("/api/v2/ticket_fields")
    async def ticket_fields(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ticket_fields": [
                    {"id": 11, "type": "subject", "title": "Subject", "active": True},
                    {"id": 12, "type": "description", "title": "Description", "active": True},
                    {
                        "id": 13,
                        "type": "status",
                        "title": "Status",
                        "active": True,
                        "system_field_options": [
                            {"name": "Open", "value": "open"},
                            {"name": "Solved", "value": "solved"},
                        ],
                    },
                    {"id": 14, "type": "priority", "title": "Priority", "active": True},
                    {"id": 360001, "type": "text", "title": "Order number", "active": True},
                    {"id": 360002, "type": "textarea", "title": "Call summary", "active": True},
                    {"id": 360003, "type": "text", "title": "Retired", "active": False},
                ]
            }
        )

    app = web.Application(middlewares=[gate])
    app.add_routes(routes)
    return app
