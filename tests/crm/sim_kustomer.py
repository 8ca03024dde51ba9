r"""A local Kustomer API for tests: an aiohttp app on loopback.

JSON:API resources (``{"data": {"type", "id", "attributes", "relationships"}}``), the search
endpoint with ``and`` / ``or`` / ``not`` criteria and ``links.next`` paging, unique customer
identifiers (``emails``, ``phones``; shared numbers live in ``sharedPhones``), notes on
conversations, custom-attribute metadata, ``errors[]`` bodies, bearer API keys and 429 with
``x-ratelimit-*`` headers.

Phone criteria follow Kustomer's standard-attributes JSON schema for search
(developer.kustomer.com, "Create customer search"; ``customer_phone`` and
``customer_shared_phone``: a string matching ``^\+?[1-9]\d{1,14}$``): other values are
refused with 400. Stored phones are free text; the simulator compares a criterion with the
stored number stripped to its digits (and a leading ``+``), its assumption of how Kustomer
indexes them (**verify**). It does not parse numbers with a region: an earlier version
normalised both sides to E.164 with region DE, which hid that the adapter sent only the
E.164 form and found national forms no real search would.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.crm.dataset import PEOPLE

API_KEY = "kustomer-api-key-value"
NOW = "2025-01-01T00:00:00.000Z"
NOTE_MAX = 10_240
METADATA = {
    "customer": {"notesStr": {"displayName": "Notes"}, "tierStr": {"displayName": "Tier"}},
    "company": {"segmentStr": {"displayName": "Segment"}},
    "conversation": {"summaryTxt": {"displayName": "Call summary"}},
}


@dataclass
class KustomerState:
    resources: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"customer": {}, "company": {}, "conversation": {}, "note": {}}
    )
    requests: list[tuple[str, str]] = field(default_factory=list)
    throttle: list[dict[str, str]] = field(default_factory=list)  # headers of next 429s
    failures: list[int] = field(default_factory=list)
    delay: float = 0.0
    unfiltered: set[str] = field(
        default_factory=set
    )  # tables whose look-ups ignore the filter: a wrong reply

    def add(
        self, kind: str, attributes: dict[str, Any], relationships: dict[str, str] | None = None
    ) -> dict[str, Any]:
        resource = {
            "type": kind,
            "id": secrets.token_hex(12),
            "attributes": {**attributes, "updatedAt": NOW},
            "relationships": {
                name: {"data": {"type": name, "id": rid}}
                for name, rid in (relationships or {}).items()
                if rid
            },
        }
        self.resources[kind][resource["id"]] = resource
        return resource

    def seed(self) -> None:
        companies: dict[str, str] = {}
        for person in PEOPLE:
            if person.company and person.company not in companies:
                companies[person.company] = self.add("company", {"name": person.company})["id"]
            shared = person.last_name == "Fischer"  # one household landline
            phones = [] if shared else [{"type": "work", "phone": person.phone}]
            if person.mobile:
                phones.append({"type": "mobile", "phone": person.mobile})
            self.add(
                "customer",
                {
                    "name": person.full_name,
                    "emails": [{"type": "home", "email": person.email}],
                    "phones": phones,
                    "sharedPhones": [{"type": "home", "phone": person.phone}] if shared else [],
                    "externalId": None,
                    "custom": {},
                },
                {"company": companies.get(person.company)},
            )
        anna = self.find_customer("Anna Schmidt")
        self.add(
            "conversation",
            {"name": "Delivery delayed", "status": "open", "externalId": None, "custom": {}},
            {"customer": anna["id"]},
        )

    def find_customer(self, name: str) -> dict[str, Any]:
        return next(
            c for c in self.resources["customer"].values() if c["attributes"]["name"] == name
        )


def _errors(status: int, code: str, title: str, pointer: str | None = None) -> web.Response:
    error: dict[str, Any] = {"status": status, "code": code, "title": title}
    if pointer:
        error["source"] = {"pointer": pointer}
    return web.json_response({"errors": [error]}, status=status)


# --- search evaluation --------------------------------------------------------------------


def _values(resource: dict[str, Any], attribute: str) -> list[str] | None:
    """The values a search attribute sees on a resource; None for an unknown attribute."""
    prefix = resource["type"] + "_"
    if not attribute.startswith(prefix):
        return None
    name = attribute[len(prefix) :]
    attrs = resource["attributes"]
    if name.startswith("custom_"):
        key = name[len("custom_") :]
        if key not in METADATA.get(resource["type"], {}):
            return None
        value = (attrs.get("custom") or {}).get(key)
        return [] if value is None else [str(value)]
    lists = {
        "email": ("emails", "email"),
        "phone": ("phones", "phone"),
        "shared_phone": ("sharedPhones", "phone"),
    }
    if name in lists:
        key, inner = lists[name]
        return [str(e.get(inner)) for e in attrs.get(key) or []]
    mapped = {
        "name": "name",
        "external_id": "externalId",
        "status": "status",
        "priority": "priority",
        "updated_at": "updatedAt",
    }.get(name)
    if mapped is None:
        return None
    value = attrs.get(mapped)
    return [] if value is None else [str(value)]


_PHONE_VALUE = re.compile(r"\+?[1-9]\d{1,14}")


def _indexed_phone(stored: str) -> str:
    """A stored phone as the simulator indexes it: a leading ``+`` and the digits."""
    digits = "".join(ch for ch in stored if ch.isdigit())
    return "+" + digits if stored.strip().startswith("+") else digits


class _BadCriterion(ValueError):
    pass


def _holds(resource: dict[str, Any], criterion: dict[str, Any]) -> bool:
    if not isinstance(criterion, dict) or len(criterion) != 1:
        raise _BadCriterion("a criterion maps one attribute to one operator")
    attribute, condition = next(iter(criterion.items()))
    values = _values(resource, attribute)
    if values is None or not isinstance(condition, dict) or len(condition) != 1:
        raise _BadCriterion(f"unknown attribute {attribute}")
    operator, wanted = next(iter(condition.items()))
    wanted = str(wanted)
    if attribute.endswith("phone"):
        if not _PHONE_VALUE.fullmatch(wanted):
            raise _BadCriterion(f"{attribute} must match {_PHONE_VALUE.pattern}")
        stored = [_indexed_phone(v) for v in values]
        if operator == "equals":
            return wanted in stored
        if operator == "contains":
            return any(wanted in v for v in stored)
    if operator == "equals":
        return any(v.casefold() == wanted.casefold() for v in values)
    if operator == "contains":
        return any(wanted.casefold() in v.casefold() for v in values)
    raise _BadCriterion(f"unknown operator {operator}")


def evaluate(state: KustomerState, body: dict[str, Any]) -> list[dict[str, Any]]:
    kind = body.get("queryContext")
    if kind not in ("customer", "company", "conversation"):
        raise _BadCriterion("unknown queryContext")
    results = []
    for resource in state.resources[kind].values():
        if not all(_holds(resource, c) for c in body.get("and") or []):
            continue
        if body.get("or") and not any(_holds(resource, c) for c in body["or"]):
            continue
        if any(_holds(resource, c) for c in body.get("not") or []):
            continue
        results.append(resource)
    return results


# --- the app --------------------------------------------------------------------------------


def _page(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    page = int(request.query.get("page", "1"))
    size = min(500, int(request.query.get("pageSize", "100")))
    chunk = items[(page - 1) * size : page * size]
    links: dict[str, Any] = {"self": request.path_qs, "next": None}
    if page * size < len(items):
        links["next"] = f"{request.path}?page={page + 1}&pageSize={size}"
    return web.json_response(
        {"data": chunk, "links": links, "meta": {"page": page, "pageSize": size}}
    )


def create_app(state: KustomerState) -> web.Application:

    @web.middleware
    async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
        state.requests.append((request.method, request.path_qs))
        if state.delay:
            await asyncio.sleep(state.delay)
        if state.throttle:
            headers = {
                "x-ratelimit-limit": "1000",
                "x-ratelimit-remaining": "0",
                **state.throttle.pop(0),
            }
            return web.json_response(
                {"errors": [{"status": 429, "code": "rate_limited", "title": "Too many requests"}]},
                status=429,
                headers=headers,
            )
        if state.failures:
            return _errors(state.failures.pop(0), "internal", "Internal server error")
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _errors(401, "unauthorized", "Unauthorized")
        return await handler(request)

    routes = web.RouteTableDef()
    kinds = {"customers": "customer", "companies": "company", "conversations": "conversation"}

    def validate(kind: str, attrs: dict[str, Any], own_id: str | None) -> web.Response | None:
        for key in attrs.get("custom") or {}:
            if key not in METADATA[kind]:
                return _errors(
                    400,
                    "bad_request",
                    f"Unknown custom attribute {key}",
                    f"/data/attributes/custom/{key}",
                )
        if kind == "conversation" and own_id is None and not attrs.get("customer"):
            return _errors(400, "bad_request", "customer is required", "/data/attributes/customer")
        if kind == "company" and not attrs.get("name"):
            return _errors(400, "bad_request", "name is required", "/data/attributes/name")
        if kind == "customer":
            for key, inner in (("emails", "email"), ("phones", "phone")):
                for entry in attrs.get(key) or []:
                    value = str(entry.get(inner, "")).casefold()
                    for other in state.resources["customer"].values():
                        if other["id"] == own_id:
                            continue
                        if any(
                            str(e.get(inner, "")).casefold() == value
                            for e in other["attributes"].get(key) or []
                        ):
                            return _errors(
                                409,
                                "duplicate",
                                f"{inner} {entry.get(inner)} is already in use",
                                f"/data/attributes/{key}",
                            )
        return None

    def split(kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        attrs = dict(body)
        relations = {}
        for name in ("company", "customer"):
            if name in attrs:
                relations[name] = attrs.pop(name)
        return attrs, relations

    @routes.get("/v1/auth/tokens/current")
    async def current(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "data": {
                    "type": "token",
                    "id": "key-1",
                    "attributes": {"roles": ["org.permission.*"]},
                }
            }
        )

    @routes.post("/v1/customers/search")
    async def search(request: web.Request) -> web.Response:
        try:
            results = evaluate(state, await request.json())
        except _BadCriterion as exc:
            return _errors(400, "bad_request", f"Invalid search: {exc}")
        return _page(request, results)

    @routes.get(r"/v1/{kind:customers|companies|conversations}/{id:[0-9a-f]{24}}")
    async def show(request: web.Request) -> web.Response:
        resource = state.resources[kinds[request.match_info["kind"]]].get(request.match_info["id"])
        if resource is None:
            return _errors(404, "not_found", "Not found")
        return web.json_response({"data": resource})

    @routes.post(r"/v1/{kind:customers|companies|conversations}")
    async def create(request: web.Request) -> web.Response:
        kind = kinds[request.match_info["kind"]]
        body = await request.json()
        problem = validate(kind, body, None)
        if problem:
            return problem
        attrs, relations = split(kind, body)
        if kind == "conversation" and relations["customer"] not in state.resources["customer"]:
            return _errors(400, "bad_request", "customer not found", "/data/attributes/customer")
        attrs.setdefault("custom", {})
        return web.json_response({"data": state.add(kind, attrs, relations)}, status=201)

    @routes.patch(r"/v1/{kind:customers|companies|conversations}/{id:[0-9a-f]{24}}")
    async def update(request: web.Request) -> web.Response:
        kind = kinds[request.match_info["kind"]]
        resource = state.resources[kind].get(request.match_info["id"])
        if resource is None:
            return _errors(404, "not_found", "Not found")
        body = await request.json()
        problem = validate(kind, body, resource["id"])
        if problem:
            return problem
        attrs, relations = split(kind, body)
        custom = {**(resource["attributes"].get("custom") or {}), **attrs.pop("custom", {})}
        resource["attributes"].update(attrs, custom=custom)
        for name, rid in relations.items():
            resource["relationships"][name] = {"data": {"type": name, "id": rid}}
        return web.json_response({"data": resource})

    @routes.get(r"/v1/customers/{id:[0-9a-f]{24}}/conversations")
    async def conversations(request: web.Request) -> web.Response:
        customer = request.match_info["id"]
        if customer not in state.resources["customer"]:
            return _errors(404, "not_found", "Not found")
        return _page(
            request,
            [
                c
                for c in state.resources["conversation"].values()
                if "conversations" in state.unfiltered
                or c["relationships"]["customer"]["data"]["id"] == customer
            ],
        )

    @routes.post("/v1/notes")
    async def add_note(request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("body") or "")
        if not 1 <= len(text) <= NOTE_MAX:
            return _errors(
                400, "bad_request", "body must be 1 to 10240 characters", "/data/attributes/body"
            )
        if body.get("conversation") not in state.resources["conversation"]:
            return _errors(400, "bad_request", "conversation not found")
        note = state.add("note", {"body": text}, {"conversation": body["conversation"]})
        return web.json_response({"data": note}, status=201)

    @routes.get(r"/v1/conversations/{id:[0-9a-f]{24}}/notes")
    async def notes(request: web.Request) -> web.Response:
        conversation = request.match_info["id"]
        if conversation not in state.resources["conversation"]:
            return _errors(404, "not_found", "Not found")
        return _page(
            request,
            [
                n
                for n in state.resources["note"].values()
                if n["relationships"]["conversation"]["data"]["id"] == conversation
            ],
        )

    @routes.get("/v1/metadata/{resource}")
    async def metadata(request: web.Request) -> web.Response:
        resource = request.match_info["resource"]
        if resource not in METADATA:
            return _errors(404, "not_found", "Not found")
        return web.json_response(
            {
                "data": {
                    "type": "metadata",
                    "id": resource,
                    "attributes": {"properties": METADATA[resource]},
                }
            }
        )

    app = web.Application(middlewares=[gate])
    app.add_routes(routes)
    return app
