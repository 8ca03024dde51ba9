"""A local Oracle B2C Service Connect REST API for tests: an aiohttp app on loopback.

Implements what the adapter uses: ROQL object queries (``GET /contacts?q=...`` with
``limit``/``offset``, ``hasMore`` and a ``next`` link), tabular ``queryResults`` (one
``SELECT ... FROM ... WHERE ...`` statement; list attributes join into one row per element),
create (201 with ``id``), PATCH, the required ``OSvC-CREST-Application-Context`` header, the
``osvc-crest-api-access-token`` echo, ``osvc-crest-next-request-after`` throttling, Basic and
OAuth (client credentials at a stand-in identity provider) auth, and problem-detail errors
with ``OSC-CREST-nnnnn`` codes. The ROQL parser is strict: string literals are single-quoted
with backslash escapes, and anything it does not understand is a 400.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.crm.dataset import PEOPLE

BASE = "/services/rest/connect/v1.4"
USERNAME = "cc_integration"
PASSWORD = "oracle-password-value"
CLIENT_ID = "cc-client"
CLIENT_SECRET = "oracle-client-secret"
NOW = "2025-01-01T00:00:00.000Z"
PHONE_TYPES = {
    0: "Office Phone",
    1: "Mobile Phone",
    2: "Fax",
    3: "Assistant Phone",
    4: "Home Phone",
}
COLLECTIONS = ("contacts", "organizations", "incidents", "tasks")


@dataclass
class OracleState:
    data: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {c: {} for c in COLLECTIONS}
    )
    tokens: dict[str, bool] = field(default_factory=dict)
    token_requests: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)
    echoed_access_tokens: int = 0
    throttle: list[int] = field(default_factory=list)  # ms of next 429s
    unfiltered: set[str] = field(
        default_factory=set
    )  # tables whose look-ups ignore the filter: a wrong reply
    advise_pause_ms: int = 0  # sent once on the next successful reply
    failures: list[int] = field(default_factory=list)
    delay: float = 0.0
    next_id: int = 100

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = False

    def add_contact(
        self,
        first: str,
        last: str,
        email: str | None,
        phones: list[tuple[str, int]],
        org: int | None,
    ) -> dict[str, Any]:
        contact_id = self.new_id()
        contact = {
            "id": contact_id,
            "lookupName": f"{first} {last}".strip(),
            "name": {"first": first, "last": last},
            "emails": [
                {"address": email, "addressType": {"id": 0, "lookupName": "Email - Primary"}}
            ]
            if email
            else [],
            "phones": [_phone(n, t) for n, t in phones],
            "title": None,
            "organization": {"id": org} if org else None,
            "updatedTime": NOW,
        }
        self.data["contacts"][contact_id] = contact
        return contact

    def seed(self) -> None:
        orgs: dict[str, int] = {}
        for person in PEOPLE:
            if person.company and person.company not in orgs:
                org_id = self.new_id()
                orgs[person.company] = org_id
                self.data["organizations"][org_id] = {
                    "id": org_id,
                    "lookupName": person.company,
                    "name": person.company,
                    "updatedTime": NOW,
                }
            phones = [(person.phone, 0)] + ([(person.mobile, 1)] if person.mobile else [])
            self.add_contact(
                person.first_name, person.last_name, person.email, phones, orgs.get(person.company)
            )
        anna = next(c for c in self.data["contacts"].values() if c["lookupName"] == "Anna Schmidt")
        incident_id = self.new_id()
        self.data["incidents"][incident_id] = {
            "id": incident_id,
            "lookupName": "250101-000001",
            "subject": "Delivery delayed",
            "referenceNumber": "250101-000001",
            "primaryContact": {"id": anna["id"]},
            "organization": anna["organization"],
            "statusWithType": {"status": {"lookupName": "Unresolved"}},
            "threads": [
                {
                    "id": self.new_id(),
                    "text": "Where is it?",
                    "entryType": {"lookupName": "Customer"},
                }
            ],
            "updatedTime": NOW,
        }


def _phone(number: str, type_id: int) -> dict[str, Any]:
    return {
        "number": number,
        "rawNumber": "".join(ch for ch in number if ch.isdigit()),
        "phoneType": {"id": type_id, "lookupName": PHONE_TYPES.get(type_id, "Other")},
    }


# --- ROQL ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:('(?:\\.|[^'\\])*')|(\d+)|([A-Za-z][A-Za-z0-9_.]*)|(!=|=|\(|\)|,))")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "SELECT", "FROM", "WHERE", "LIMIT"}


class RoqlError(ValueError):
    pass


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise RoqlError(f"unexpected input at {pos}: {text[pos : pos + 10]!r}")
        string, number, word, op = match.groups()
        if string is not None:
            tokens.append(("str", re.sub(r"\\(.)", r"\1", string[1:-1])))
        elif number is not None:
            tokens.append(("num", int(number)))
        elif word is not None:
            upper = word.upper()
            tokens.append(("kw", upper) if upper in _KEYWORDS else ("path", word))
        else:
            tokens.append(("op", op))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        token = self.peek()
        if (
            token is None
            or (kind and token[0] != kind)
            or (value is not None and token[1] != value)
        ):
            raise RoqlError(f"expected {value or kind}, got {token}")
        self.pos += 1
        return token

    def expr(self) -> Any:
        node = self.term()
        while self.peek() == ("kw", "OR"):
            self.take()
            node = ("or", node, self.term())
        return node

    def term(self) -> Any:
        node = self.factor()
        while self.peek() == ("kw", "AND"):
            self.take()
            node = ("and", node, self.factor())
        return node

    def literal(self) -> Any:
        token = self.peek()
        if token is None or token[0] not in ("str", "num"):
            raise RoqlError(f"expected a literal, got {token}")
        self.pos += 1
        return token[1]

    def factor(self) -> Any:
        if self.peek() == ("op", "("):
            self.take()
            node = self.expr()
            self.take("op", ")")
            return node
        if self.peek() == ("kw", "NOT"):
            self.take()
            return ("not", self.factor())
        path = self.take("path")[1]
        if self.peek() == ("kw", "IN"):
            self.take()
            self.take("op", "(")
            values = [self.literal()]
            while self.peek() == ("op", ","):
                self.take()
                values.append(self.literal())
            self.take("op", ")")
            return ("in", path, values)
        op = self.take("op")[1]
        if op not in ("=", "!="):
            raise RoqlError(f"unsupported operator {op}")
        return (op, path, self.literal())


def parse_where(text: str) -> Any:
    parser = _Parser(tokenize(text))
    node = parser.expr()
    if parser.peek() is not None:
        raise RoqlError(f"unexpected {parser.peek()}")
    return node


def parse_select(text: str) -> tuple[list[str], str, Any]:
    parser = _Parser(tokenize(text))
    parser.take("kw", "SELECT")
    columns = [parser.take("path")[1]]
    while parser.peek() == ("op", ","):
        parser.take()
        columns.append(parser.take("path")[1])
    parser.take("kw", "FROM")
    collection = parser.take("path")[1]
    parser.take("kw", "WHERE")
    node = parser.expr()
    if parser.peek() is not None:
        raise RoqlError(f"unexpected {parser.peek()}")
    return columns, collection, node


def resolve(record: Any, path: str) -> list[Any]:
    values = [record]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, list):
                nxt += [v.get(part) if isinstance(v, dict) else None for v in value]
            elif isinstance(value, dict):
                nxt.append(value.get(part))
        values = []
        for value in nxt:
            values += value if isinstance(value, list) else [value]
    return [v for v in values if v is not None]


def _equal(stored: Any, literal: Any) -> bool:
    return str(stored).casefold() == str(literal).casefold()


def matches(record: dict[str, Any], node: Any) -> bool:
    kind = node[0]
    if kind == "or":
        return matches(record, node[1]) or matches(record, node[2])
    if kind == "and":
        return matches(record, node[1]) and matches(record, node[2])
    if kind == "not":
        return not matches(record, node[1])
    values = resolve(record, node[1])
    if kind == "in":
        return any(_equal(v, lit) for v in values for lit in node[2])
    if not values:
        return False  # SQL: a comparison with NULL is never true
    hit = any(_equal(v, node[2]) for v in values)
    return hit if kind == "=" else not hit


def table_rows(records: list[dict[str, Any]], columns: list[str]) -> list[list[Any]]:
    """One row per combination of the list attributes the columns touch (a join)."""
    rows = []
    for record in records:
        lists = sorted(
            {c.split(".")[0] for c in columns if isinstance(record.get(c.split(".")[0]), list)}
        )
        choices = [record[name] or [None] for name in lists]
        for combo in itertools.product(*choices):
            chosen = {**record, **dict(zip(lists, combo, strict=True))}
            row = []
            for column in columns:
                values = resolve(chosen, column)
                row.append(None if not values else str(values[0]))
            rows.append(row)
    return rows


# --- the app --------------------------------------------------------------------------------


def _problem(status: int, code: str, title: str, detail: str = "") -> web.Response:
    return web.json_response(
        {
            "type": f"https://www.rfc-editor.org/rfc/rfc9110#status.{status}",
            "title": title,
            "status": status,
            "detail": detail or title,
            "instance": "",
            "o:errorCode": code,
        },
        status=status,
    )


def create_app(state: OracleState) -> web.Application:

    @web.middleware
    async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(BASE):
            return await handler(request)
        state.requests.append((request.method, request.path_qs))
        if state.delay:
            await asyncio.sleep(state.delay)
        if state.throttle:
            wait = state.throttle.pop(0)
            response = _problem(429, "OSC-CREST-00031", "Too Many Requests")
            response.headers["osvc-crest-next-request-after"] = str(wait)
            return response
        if state.failures:
            return _problem(state.failures.pop(0), "OSC-CREST-00008", "Internal error")
        if not request.headers.get("OSvC-CREST-Application-Context"):
            return _problem(
                400,
                "OSC-CREST-00007",
                "Bad Request",
                "OSvC-CREST-Application-Context header is required",
            )
        auth = request.headers.get("Authorization", "")
        basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if auth.startswith("Bearer "):
            if not state.tokens.get(auth[7:]):
                return _problem(
                    401,
                    "OSC-CREST-00014",
                    "Unauthorized",
                    "Access denied: the token is invalid or expired",
                )
        elif auth != f"Basic {basic}":
            return _problem(401, "OSC-CREST-00014", "Unauthorized", "Access denied")
        if request.headers.get("osvc-crest-api-access-token"):
            state.echoed_access_tokens += 1
        response = await handler(request)
        response.headers["osvc-crest-api-access-token"] = secrets.token_hex(8)
        if state.advise_pause_ms:
            response.headers["osvc-crest-next-request-after"] = str(state.advise_pause_ms)
            state.advise_pause_ms = 0
        return response

    routes = web.RouteTableDef()

    @routes.post("/oauth2/v1/token")
    async def token(request: web.Request) -> web.Response:
        state.token_requests += 1
        form = await request.post()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        value = secrets.token_hex(16)
        state.tokens[value] = True
        return web.json_response(
            {"access_token": value, "token_type": "Bearer", "expires_in": 3600}
        )

    def summary(collection: str, item: dict[str, Any], base: str) -> dict[str, Any]:
        return {
            "id": item["id"],
            "lookupName": item.get("lookupName"),
            "links": [{"rel": "canonical", "href": f"{base}/{collection}/{item['id']}"}],
        }

    @routes.get(BASE + "/queryResults")
    async def query_results(request: web.Request) -> web.Response:
        text = request.query.get("query", "")
        if ";" in text:
            return _problem(
                400,
                "OSC-CREST-00007",
                "Bad Request",
                "the simulator runs one statement per request",
            )
        try:
            columns, collection, node = parse_select(text)
        except RoqlError as exc:
            return _problem(400, "OSC-CREST-00007", "Bad Request", f"Invalid ROQL: {exc}")
        if collection not in state.data:
            return _problem(400, "OSC-CREST-00007", "Bad Request", "unknown object")
        found = [
            r
            for r in state.data[collection].values()
            if collection in state.unfiltered or matches(r, node)
        ]
        rows = table_rows(found, columns)
        return web.json_response(
            {
                "items": [
                    {
                        "tableName": collection,
                        "count": len(rows),
                        "columnNames": [c.split(".")[-1] for c in columns],
                        "rows": rows,
                    }
                ],
                "links": [],
            }
        )

    @routes.get(BASE + "/{collection}")
    async def collection_query(request: web.Request) -> web.Response:
        collection = request.match_info["collection"]
        if collection not in state.data:
            return _problem(404, "OSC-CREST-00013", "Not Found", "unknown resource")
        items = list(state.data[collection].values())
        if "q" in request.query:
            try:
                node = parse_where(request.query["q"])
            except RoqlError as exc:
                return _problem(400, "OSC-CREST-00007", "Bad Request", f"Invalid ROQL: {exc}")
            items = [r for r in items if matches(r, node)]
        limit = int(request.query.get("limit", "1000"))
        offset = int(request.query.get("offset", "0"))
        chunk = items[offset : offset + limit]
        base = str(request.url.with_path(BASE).with_query(None))
        links = [{"rel": "self", "href": str(request.url)}]
        more = offset + limit < len(items)
        if more:
            links.append(
                {
                    "rel": "next",
                    "href": str(
                        request.url.update_query(
                            {"offset": str(offset + limit), "limit": str(limit)}
                        )
                    ),
                }
            )
        return web.json_response(
            {
                "items": [summary(collection, i, base) for i in chunk],
                "hasMore": more,
                "limit": limit,
                "offset": offset,
                "links": links,
            }
        )

    def apply(collection: str, item: dict[str, Any], body: dict[str, Any]) -> str | None:
        """Write ``body`` into ``item``; an error text when the write is invalid."""
        for key, value in body.items():
            if key == "name" and isinstance(value, dict):
                item["name"] = {**(item.get("name") or {}), **value}
            elif key == "emails":
                for entry in value:
                    address = str(entry.get("address", "")).casefold()
                    for other in state.data["contacts"].values():
                        if other is not item and any(
                            e["address"].casefold() == address for e in other["emails"]
                        ):
                            return f"Email address {entry.get('address')} is already in use"
                item["emails"] = [
                    {"address": e["address"], "addressType": e.get("addressType", {"id": 0})}
                    for e in value
                ]
            elif key == "phones":
                kept = {p["phoneType"]["id"]: p for p in item.get("phones") or []}
                for entry in value:
                    type_id = (entry.get("phoneType") or {}).get("id", 0)
                    kept[type_id] = _phone(entry["number"], type_id)
                item["phones"] = list(kept.values())
            elif key == "threads":
                for entry in value:
                    item.setdefault("threads", []).append(
                        {
                            "id": state.new_id(),
                            "text": entry.get("text", ""),
                            "entryType": entry.get("entryType"),
                        }
                    )
            elif key in ("organization", "primaryContact", "contact", "incident"):
                target = {
                    "organization": "organizations",
                    "primaryContact": "contacts",
                    "contact": "contacts",
                    "incident": "incidents",
                }[key]
                if value is not None and value.get("id") not in state.data[target]:
                    return f"{key} {value.get('id')} does not exist"
                item[key] = value
            else:
                item[key] = value
        if collection == "contacts":
            name = item.get("name") or {}
            item["lookupName"] = " ".join(p for p in (name.get("first"), name.get("last")) if p)
        if collection == "tasks":
            item["lookupName"] = item.get("name")
        if collection == "organizations":
            item["lookupName"] = item.get("name")
        item["updatedTime"] = NOW
        return None

    @routes.post(BASE + "/{collection}")
    async def create(request: web.Request) -> web.Response:
        collection = request.match_info["collection"]
        if collection not in state.data:
            return _problem(404, "OSC-CREST-00013", "Not Found", "unknown resource")
        body = await request.json()
        required = {"incidents": "primaryContact", "tasks": "name", "organizations": "name"}
        if collection in required and not body.get(required[collection]):
            return _problem(
                400, "OSC-CREST-00012", "Bad Request", f"{required[collection]} is required"
            )
        item: dict[str, Any] = (
            {"id": state.new_id(), "emails": [], "phones": [], "threads": []}
            if collection in ("contacts", "incidents")
            else {"id": state.new_id()}
        )
        if collection == "incidents":
            del item["emails"], item["phones"]
            item["referenceNumber"] = item["lookupName"] = f"250101-{item['id']:06d}"
            item["statusWithType"] = {"status": {"lookupName": "Unresolved"}}
        if collection == "contacts":
            del item["threads"]
            item.update(title=None, organization=None)
        problem = apply(collection, item, body)
        if problem:
            return _problem(400, "OSC-CREST-00012", "Bad Request", problem)
        state.data[collection][item["id"]] = item
        base = str(request.url.with_path(BASE).with_query(None))
        return web.json_response(summary(collection, item, base), status=201)

    @routes.patch(BASE + r"/{collection}/{id:\d+}")
    async def update(request: web.Request) -> web.Response:
        collection = request.match_info["collection"]
        item = state.data.get(collection, {}).get(int(request.match_info["id"]))
        if item is None:
            return _problem(
                404, "OSC-CREST-00013", "Not Found", "the requested resource does not exist"
            )
        problem = apply(collection, item, await request.json())
        if problem:
            return _problem(400, "OSC-CREST-00006", "Bad Request", problem)
        return web.Response(status=200)

    app = web.Application(middlewares=[gate])
    app.add_routes(routes)
    return app
