"""A HubSpot CRM simulator: an aiohttp app on loopback speaking HubSpot's wire format.

Records live in dicts. It answers the v3 objects API and the dated (``2026-03``) paths,
evaluates the search JSON the adapter sends (filterGroups ORed, filters ANDed, HubSpot's
5/10/25 limits, ``after`` paging), the v4 associations and labels, the properties API,
account details, and HubSpot's error bodies. Tests queue throttling (429 with HubSpot's
rate-limit headers), 5xx replies and stalls, or set ``quota`` (a rolling window): then every
reply advertises it in ``X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds`` and a
call over it is refused with 429 and no ``Retry-After`` (HubSpot's docs leave it unsaid).

Assumptions, marked where HubSpot's docs were not explicit: string ``EQ``/``IN`` compare
case-insensitively; ``hs_searchable_calculated_*`` are the national significant number
computed with the portal's default region (DE here).
"""

from __future__ import annotations

import asyncio
import fnmatch
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from aiohttp import web

from .dataset import PEOPLE, Person
from .quota_window import RollingQuota

__all__ = ["HubSpotSim", "TOKEN", "PORTAL_ID"]

_JSON: web.RequestKey[Any] = web.RequestKey("json", object)  # type: ignore[arg-type]
TOKEN = "pat-eu1-test-0000-secret"
PORTAL_ID = "4711"


def _prop(
    name: str, label: str, type_: str = "string", field_type: str = "text", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "hubspotDefined": True,
        "hidden": False,
        "calculated": False,
        "modificationMetadata": {"readOnlyValue": False},
        "options": [],
        **extra,
    }


def _read_only(prop: dict[str, Any]) -> dict[str, Any]:
    prop["modificationMetadata"] = {"readOnlyValue": True}
    return prop


def _calculated(name: str, label: str) -> dict[str, Any]:
    prop = _read_only(_prop(name, label, "phone_number", "phonenumber"))
    prop["calculated"] = True
    return prop


def _options(*values: str) -> list[dict[str, Any]]:
    return [{"label": v.title(), "value": v, "displayOrder": i} for i, v in enumerate(values)]


_COMMON = [
    _read_only(_prop("hs_object_id", "Record ID", "number", "number")),
    _read_only(_prop("createdate", "Create date", "datetime", "date")),
    _read_only(_prop("lastmodifieddate", "Last modified", "datetime", "date")),
]

PROPERTIES: dict[str, list[dict[str, Any]]] = {
    "contacts": _COMMON
    + [
        _prop("firstname", "First name"),
        _prop("lastname", "Last name"),
        _prop("email", "Email"),
        _prop("phone", "Phone number", "string", "phonenumber"),
        _prop("mobilephone", "Mobile phone number", "string", "phonenumber"),
        _prop("company", "Company name"),
        _prop("jobtitle", "Job title"),
        _prop("associatedcompanyid", "Primary company ID", "number", "number"),
        _prop(
            "lifecyclestage",
            "Lifecycle stage",
            "enumeration",
            "radio",
            options=_options("lead", "customer"),
        ),
        _calculated(
            "hs_searchable_calculated_phone_number", "Calculated phone number without country code"
        ),
        _calculated(
            "hs_searchable_calculated_mobile_number",
            "Calculated mobile number without country code",
        ),
    ],
    "companies": _COMMON
    + [
        _prop("name", "Company name"),
        _prop("domain", "Domain"),
        _prop("phone", "Phone", "string", "phonenumber"),
        _prop("city", "City"),
        _prop("country", "Country"),
    ],
    "deals": _COMMON
    + [
        _prop("dealname", "Deal name"),
        _prop("amount", "Amount", "number", "number"),
        _prop(
            "dealstage",
            "Deal stage",
            "enumeration",
            "select",
            options=_options("appointmentscheduled", "closedwon"),
        ),
        _prop("pipeline", "Pipeline"),
        _prop("closedate", "Close date", "datetime", "date"),
    ],
    "tickets": _COMMON
    + [
        _prop("subject", "Ticket name"),
        _prop("content", "Ticket description", "string", "textarea"),
        _prop("hs_pipeline", "Pipeline"),
        _prop(
            "hs_pipeline_stage",
            "Ticket status",
            "enumeration",
            "select",
            options=_options("1", "2", "3", "4"),
        ),
        _prop(
            "hs_ticket_priority",
            "Priority",
            "enumeration",
            "select",
            options=_options("LOW", "MEDIUM", "HIGH"),
        ),
    ],
    "calls": _COMMON
    + [
        _prop("hs_timestamp", "Activity date", "datetime", "date"),
        _prop("hs_call_title", "Call title"),
        _prop("hs_call_body", "Call notes", "string", "html"),
        _prop(
            "hs_call_direction",
            "Call direction",
            "enumeration",
            "select",
            options=_options("INBOUND", "OUTBOUND"),
        ),
        _prop("hs_call_duration", "Call duration", "number", "number"),
        _prop("hs_call_status", "Call status"),
        _prop("hs_call_external_id", "External ID"),
        _prop("hs_call_from_number", "From number"),
        _prop("hs_call_to_number", "To number"),
    ],
}
REQUIRED = {
    "tickets": ("subject", "hs_pipeline_stage"),
    "deals": ("dealname", "dealstage"),
    "calls": ("hs_timestamp",),
}
# (from, to) -> unlabeled HUBSPOT_DEFINED association type id
ASSOCIATION_TYPES = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("contacts", "tickets"): 15,
    ("tickets", "contacts"): 16,
    ("companies", "tickets"): 25,
    ("tickets", "companies"): 26,
    ("contacts", "deals"): 4,
    ("deals", "contacts"): 3,
    ("calls", "contacts"): 194,
    ("contacts", "calls"): 193,
    ("calls", "companies"): 182,
    ("companies", "calls"): 181,
    ("calls", "tickets"): 220,
    ("tickets", "calls"): 219,
    ("calls", "deals"): 206,
    ("deals", "calls"): 205,
}
INVERSE = {type_id: ASSOCIATION_TYPES[(b, a)] for (a, b), type_id in ASSOCIATION_TYPES.items()}


def _texts(body: dict[str, Any]) -> dict[str, str]:
    """A create or update body's properties as HubSpot stores them: text, ``None`` empty."""
    return {k: "" if v is None else str(v) for k, v in (body.get("properties") or {}).items()}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _error(status: int, message: str, category: str, **extra: Any) -> web.Response:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return web.json_response(body, status=status)


def _national(number: str, region: str) -> str:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.national_significant_number(parsed)


class HubSpotSim:
    """State plus the aiohttp app. ``requests`` logs ``(method, path, json)`` of each call."""

    def __init__(self, token: str = TOKEN, portal_id: str = PORTAL_ID, region: str = "DE") -> None:
        self.token = token
        self.portal_id = portal_id
        self.region = region
        self.objects: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in PROPERTIES}
        self.links: set[tuple[str, str, str, str, int]] = set()
        self.requests: list[tuple[str, str, Any]] = []
        self.throttles: list[dict[str, Any]] = []
        self.failures: list[int] = []
        self.batch_sizes: list[int] = []  # inputs per batch/update or batch/create
        self.stalls: list[float] = []
        # tables whose look-ups ignore the filter: a wrong reply
        self.unfiltered: set[str] = set()
        # properties this account lacks, as (object type, name)
        self.missing_properties: set[tuple[str, str]] = set()
        self.quota: RollingQuota | None = None
        self._next_id = 1000

    # --- test controls ------------------------------------------------------------------

    def throttle_next(
        self, *, retry_after: str | None = None, policy: str = "TEN_SECONDLY_ROLLING"
    ) -> None:
        self.throttles.append({"retry_after": retry_after, "policy": policy})

    def fail_next(self, status: int = 500) -> None:
        self.failures.append(status)

    def stall_next(self, seconds: float) -> None:
        self.stalls.append(seconds)

    def calls_for(self, object_type: str, record_id: str) -> list[dict[str, Any]]:
        ids = [
            to
            for (a, aid, b, to, _) in self.links
            if (a, aid, b) == (object_type, record_id, "calls")
        ]
        return [self.objects["calls"][i] for i in sorted(ids, key=int)]

    # --- data ---------------------------------------------------------------------------

    def seed(self, people: Iterable[Person] = PEOPLE) -> None:
        companies: dict[str, str] = {}
        for person in people:
            if person.company and person.company not in companies:
                companies[person.company] = self.insert("companies", {"name": person.company})
            contact = self.insert(
                "contacts",
                {
                    "firstname": person.first_name,
                    "lastname": person.last_name,
                    "email": person.email,
                    "phone": person.phone,
                    "mobilephone": person.mobile,
                    "company": person.company,
                    "associatedcompanyid": companies.get(person.company, ""),
                },
            )
            if person.company:
                self.link("contacts", contact, "companies", companies[person.company])
        anna = next(iter(self.objects["contacts"]))
        ticket = self.insert(
            "tickets",
            {
                "subject": "Lieferung verspätet",
                "hs_pipeline": "0",
                "hs_pipeline_stage": "1",
                "content": "Paket seit drei Tagen unterwegs.",
            },
        )
        self.link("contacts", anna, "tickets", ticket)

    def insert(self, object_type: str, properties: dict[str, str]) -> str:
        self._next_id += 1
        record_id = str(self._next_id)
        now = _now()
        props = {k: v for k, v in properties.items() if v not in (None, "")}
        props.update(hs_object_id=record_id, createdate=now, lastmodifieddate=now)
        self._calculate(object_type, props)
        self.objects[object_type][record_id] = {
            "id": record_id,
            "properties": props,
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }
        return record_id

    def link(self, a: str, a_id: str, b: str, b_id: str, type_id: int | None = None) -> None:
        type_id = type_id or ASSOCIATION_TYPES[(a, b)]
        self.links.add((a, a_id, b, b_id, type_id))
        self.links.add((b, b_id, a, a_id, INVERSE.get(type_id, type_id)))

    def _calculate(self, object_type: str, props: dict[str, str]) -> None:
        if object_type != "contacts":
            return
        for source, target in (
            ("phone", "hs_searchable_calculated_phone_number"),
            ("mobilephone", "hs_searchable_calculated_mobile_number"),
        ):
            national = _national(props.get(source, ""), self.region)
            if national:
                props[target] = national
            else:
                props.pop(target, None)

    # --- the app ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._edge])
        r = app.router
        for objects in ("/crm/{ver}/objects/{type}", "/crm/objects/{ver}/{type}"):
            r.add_post(objects, self._create)
            r.add_post(objects + "/search", self._search)
            r.add_post(objects + "/batch/read", self._batch_read)
            r.add_post(objects + "/batch/update", self._batch_update)
            r.add_post(objects + "/batch/create", self._batch_create)
            r.add_get(objects + "/{id}", self._get)
            r.add_patch(objects + "/{id}", self._update)
            r.add_get(objects + "/{id}/associations/{to}", self._associations)
        r.add_get("/crm/v4/objects/{type}/{id}/associations/{to}", self._associations)
        r.add_get("/crm/v4/associations/{type}/{to}/labels", self._labels)
        r.add_get("/crm/associations/{ver}/{type}/{to}/labels", self._labels)
        r.add_get("/crm/{ver}/properties/{type}", self._properties)
        r.add_get("/crm/properties/{ver}/{type}", self._properties)
        r.add_get("/crm/v3/schemas", self._schemas)
        r.add_get("/account-info/{ver}/details", self._account)
        return app

    @web.middleware
    async def _edge(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, request.path, body))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                "INVALID_AUTHENTICATION",
            )
        if self.stalls:
            await asyncio.sleep(self.stalls.pop(0))
        if self.failures:
            return _error(self.failures.pop(0), "internal error", "INTERNAL_ERROR")
        if self.throttles:
            spec = self.throttles.pop(0)
            headers = {
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "190",
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Daily": "1000000",
                "X-HubSpot-RateLimit-Daily-Remaining": "0"
                if "DAILY" in spec["policy"]
                else "999000",
            }
            if spec["retry_after"] is not None:
                headers["Retry-After"] = spec["retry_after"]
            response = _error(
                429,
                f"You have reached your {spec['policy'].lower()} limit.",
                "RATE_LIMITS",
                errorType="RATE_LIMIT",
                policyName=spec["policy"],
            )
            response.headers.update(headers)
            return response
        request[_JSON] = body
        if self.quota is None:
            return await handler(request)
        left = self.quota.take()
        advertised = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": f"{self.quota.window * 1000:.0f}",
            "X-HubSpot-RateLimit-Max": str(self.quota.limit),
            "X-HubSpot-RateLimit-Remaining": str(left or 0),
        }
        if left is None:
            response = _error(
                429,
                "You have reached your ten_secondly_rolling limit.",
                "RATE_LIMITS",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
            )
        else:
            response = await handler(request)
        response.headers.update(advertised)
        return response

    def _type(self, request: web.Request) -> str | None:
        object_type = request.match_info["type"]
        return object_type if object_type in self.objects else None

    def _unknown_type(self, request: web.Request) -> web.Response:
        return _error(
            400,
            f"Unable to infer object type from: {request.match_info['type']}",
            "VALIDATION_ERROR",
        )

    def _view(
        self, object_type: str, record: dict[str, Any], properties: Iterable[str]
    ) -> dict[str, Any]:
        wanted = set(properties) | {"hs_object_id", "createdate", "lastmodifieddate"}
        props = {k: v for k, v in record["properties"].items() if k in wanted}
        props.update({name: None for name in wanted if name not in props})
        return {**record, "properties": props}

    def _invalid_properties(
        self, object_type: str, props: dict[str, Any], creating: bool
    ) -> web.Response | None:
        known = {p["name"]: p for p in self._props(object_type)}
        problems: list[tuple[str, str, str]] = []  # (property, message, code)
        for name in props:
            if name not in known:
                problems.append(
                    (name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST")
                )
            elif known[name]["modificationMetadata"]["readOnlyValue"]:
                problems.append((name, f'"{name}" is a read only property', "READ_ONLY_VALUE"))
            elif (
                props[name]
                and known[name].get("options")
                and props[name] not in {o["value"] for o in known[name]["options"]}
            ):
                problems.append((name, f'"{props[name]}" is not a valid option', "INVALID_OPTION"))
        if creating:
            problems += [
                (n, f'"{n}" is required', "REQUIRED_FIELD")
                for n in REQUIRED.get(object_type, ())
                if not props.get(n)
            ]
        if not problems:
            return None
        # HubSpot docs, "Error handling": each entry of ``errors`` names its field in ``in``
        return _error(
            400,
            "Property values were not valid: "
            + "; ".join(f"{message} ({code})" for _, message, code in problems),
            "VALIDATION_ERROR",
            errors=[
                {"message": message, "in": name, "code": code} for name, message, code in problems
            ],
        )

    async def _create(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        created = self._create_one(object_type, request[_JSON] or {})
        if isinstance(created, web.Response):
            return created
        return web.json_response(created, status=201)

    def _create_one(self, object_type: str, body: dict[str, Any]) -> dict[str, Any] | web.Response:
        """One object created as ``POST /objects/{type}`` does: its view, or the error."""
        props = _texts(body)
        invalid = self._invalid_properties(object_type, props, creating=True)
        if invalid:
            return invalid
        targets = self._targets(object_type, body)
        if isinstance(targets, web.Response):
            return targets
        record_id = self.insert(object_type, props)
        for to_type, to_id, type_id in targets:
            self.link(object_type, record_id, to_type, to_id, type_id)
        return self._view(object_type, self.objects[object_type][record_id], props)

    def _targets(
        self, object_type: str, body: dict[str, Any]
    ) -> list[tuple[str, str, int]] | web.Response:
        """The records a create body associates the new object with (400 when one is not
        there)."""
        targets = []
        for association in body.get("associations") or []:
            to_id = str(association["to"]["id"])
            type_id = association["types"][0]["associationTypeId"]
            to_type = next(
                (b for (a, b), t in ASSOCIATION_TYPES.items() if a == object_type and t == type_id),
                None,
            )
            if to_type is None or to_id not in self.objects[to_type]:
                return _error(
                    400, f"Invalid association to {to_id} (type {type_id})", "VALIDATION_ERROR"
                )
            targets.append((to_type, to_id, type_id))
        return targets

    # --- batch endpoints: "Update a batch of records", "Create a batch of calls" --------
    # At most 100 inputs. Each input's objectWriteTraceId comes back on its result. An
    # invalid property value refuses the whole batch (400, as a lone request would); ids
    # that do not exist are left out and named in a 207's errors (context.ids), the shape
    # HubSpot documents for batch errors (verify: which failures are per input).

    def _batch_inputs(self, request: web.Request) -> list[dict[str, Any]] | web.Response:
        inputs = (request[_JSON] or {}).get("inputs") or []
        if not 1 <= len(inputs) <= 100:
            return _error(400, "Batch inputs must number 1 to 100", "VALIDATION_ERROR")
        self.batch_sizes.append(len(inputs))
        return list(inputs)

    @staticmethod
    def _batch_reply(
        results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int
    ) -> web.Response:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": _now(),
            "completedAt": _now(),
        }
        if errors:
            body.update(errors=errors, numErrors=len(errors))
        return web.json_response(body, status=207 if errors else ok)

    async def _batch_update(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        inputs = self._batch_inputs(request)
        if isinstance(inputs, web.Response):
            return inputs
        for item in inputs:
            props = _texts(item)
            invalid = self._invalid_properties(object_type, props, creating=False)
            if invalid:
                return invalid
        results, missing = [], []
        for item in inputs:
            record = self.objects[object_type].get(str(item["id"]))
            if record is None:
                missing.append(str(item["id"]))
                continue
            view = self._apply(object_type, record, _texts(item))
            results.append({**view, "objectWriteTraceId": item.get("objectWriteTraceId")})
        errors = []
        if missing:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {object_type} objects, they may be deleted "
                    "or not exist. Check that ids are valid.",
                    "context": {"ids": missing},
                }
            )
        return self._batch_reply(results, errors, 200)

    async def _batch_create(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        inputs = self._batch_inputs(request)
        if isinstance(inputs, web.Response):
            return inputs
        for item in inputs:  # all valid, or none created
            props = _texts(item)
            invalid = self._invalid_properties(object_type, props, creating=True)
            targets = self._targets(object_type, item)
            if invalid:
                return invalid
            if isinstance(targets, web.Response):
                return targets
        results = []
        for item in inputs:
            created = self._create_one(object_type, item)
            if isinstance(created, web.Response):
                return created
            results.append({**created, "objectWriteTraceId": item.get("objectWriteTraceId")})
        return self._batch_reply(results, [], 201)

    async def _get(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        record = self.objects[object_type].get(request.match_info["id"])
        if record is None:
            return _error(404, "Object not found.", "OBJECT_NOT_FOUND")
        wanted = [p for p in request.query.get("properties", "").split(",") if p]
        return web.json_response(self._view(object_type, record, wanted))

    async def _update(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        record = self.objects[object_type].get(request.match_info["id"])
        if record is None:
            return _error(404, "Object not found.", "OBJECT_NOT_FOUND")
        props = _texts(request[_JSON] or {})
        invalid = self._invalid_properties(object_type, props, creating=False)
        if invalid:
            return invalid
        return web.json_response(self._apply(object_type, record, props))

    def _apply(
        self, object_type: str, record: dict[str, Any], props: dict[str, str]
    ) -> dict[str, Any]:
        """An update's new values stored (calculated properties and times with them); the
        record as the reply shows it."""
        record["properties"].update(props)
        self._calculate(object_type, record["properties"])
        record["updatedAt"] = record["properties"]["lastmodifieddate"] = _now()
        return self._view(object_type, record, props)

    async def _batch_read(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        body = request[_JSON] or {}
        wanted = body.get("properties") or []
        results = [
            self._view(object_type, self.objects[object_type][str(i["id"])], wanted)
            for i in body.get("inputs", [])
            if str(i["id"]) in self.objects[object_type]
        ]
        return web.json_response(
            {"status": "COMPLETE", "results": results, "startedAt": _now(), "completedAt": _now()}
        )

    async def _search(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        body = request[_JSON] or {}
        groups = body.get("filterGroups") or []
        problem = self._search_problem(object_type, groups, body)
        if problem:
            return _error(400, problem, "VALIDATION_ERROR")
        records = sorted(self.objects[object_type].values(), key=lambda r: int(r["id"]))
        hits = [
            r
            for r in records
            if not groups
            or object_type in self.unfiltered
            or any(all(self._matches(r["properties"], f) for f in g["filters"]) for g in groups)
        ]
        start = int(body.get("after") or 0)
        limit = int(body.get("limit") or 10)
        page = hits[start : start + limit]
        reply: dict[str, Any] = {
            "total": len(hits),
            "results": [self._view(object_type, r, body.get("properties") or []) for r in page],
        }
        if start + limit < len(hits):
            after = str(start + limit)
            reply["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return web.json_response(reply)

    def _search_problem(
        self, object_type: str, groups: list[dict[str, Any]], body: dict[str, Any]
    ) -> str | None:
        counts = [len(g.get("filters") or []) for g in groups]
        if len(groups) > 5 or any(c > 10 for c in counts) or sum(counts) > 25:
            return "Too many filter groups or filters (max 5 groups, 10 per group, 25 total)"
        if int(body.get("limit") or 10) > 200:
            return "limit must be at most 200"
        known = {p["name"] for p in self._props(object_type)}
        for group in groups:
            for f in group.get("filters") or []:
                if f.get("propertyName") not in known:
                    return f"Property {f.get('propertyName')!r} does not exist"
        return None

    @staticmethod
    def _matches(props: dict[str, Any], f: dict[str, Any]) -> bool:
        stored = props.get(f["propertyName"])
        text = "" if stored is None else str(stored).lower()
        op = f["operator"]
        if op == "HAS_PROPERTY":
            return bool(text)
        if op == "NOT_HAS_PROPERTY":
            return not text
        if op in ("IN", "NOT_IN"):
            inside = text in [str(v).lower() for v in f.get("values") or []]
            return inside if op == "IN" else not inside
        value = str(f.get("value", "")).lower()
        if op == "EQ":
            return bool(text) and text == value
        if op == "NEQ":
            return text != value
        if op == "CONTAINS_TOKEN":
            return any(fnmatch.fnmatchcase(token, value) for token in text.split())
        raise ValueError(f"operator {op} not simulated")

    async def _associations(self, request: web.Request) -> web.Response:
        object_type, to_type = request.match_info["type"], request.match_info["to"]
        record_id = request.match_info["id"]
        if object_type not in self.objects or to_type not in self.objects:
            return self._unknown_type(request)
        if record_id not in self.objects[object_type]:
            return _error(404, "Object not found.", "OBJECT_NOT_FOUND")
        rows = sorted(
            (int(b_id), t)
            for (a, a_id, b, b_id, t) in self.links
            if (a, a_id, b) == (object_type, record_id, to_type)
        )
        results = [
            {
                "toObjectId": i,
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": None}],
            }
            for i, t in rows
        ]
        return web.json_response({"results": results})

    async def _labels(self, request: web.Request) -> web.Response:
        pair = (request.match_info["type"], request.match_info["to"])
        type_id = ASSOCIATION_TYPES.get(pair)
        results = (
            []
            if type_id is None
            else [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
        )
        return web.json_response({"results": results})

    def _props(self, object_type: str) -> list[dict[str, Any]]:
        return [
            p
            for p in PROPERTIES[object_type]
            if (object_type, p["name"]) not in self.missing_properties
        ]

    async def _properties(self, request: web.Request) -> web.Response:
        object_type = self._type(request)
        if object_type is None:
            return self._unknown_type(request)
        return web.json_response({"results": self._props(object_type)})

    async def _schemas(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "results": [
                    {
                        "objectTypeId": "2-7001",
                        "name": "vehicles",
                        "fullyQualifiedName": "p4711_vehicles",
                        "labels": {"singular": "Vehicle", "plural": "Vehicles"},
                    }
                ]
            }
        )

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "portalId": int(self.portal_id),
                "accountType": "STANDARD",
                "timeZone": "Europe/Berlin",
                "uiDomain": "app-eu1.hubspot.com",
                "dataHostingLocation": "eu1",
            }
        )


async def start_adapter(
    aiohttp_server: Any, http: Any, sim: HubSpotSim | None = None, **settings: Any
) -> tuple[HubSpotSim, Any]:
    """A seeded simulator on loopback and the real adapter (from the registry) pointed at it."""
    from crm.registry import AdapterContext, create_adapter

    if sim is None:
        sim = HubSpotSim()
        sim.seed()
    server = await aiohttp_server(sim.app())
    config = {
        "account_id": PORTAL_ID,
        "external_screenpop_domain_hs": "app-eu1.hubspot.com",
        "api_base": str(server.make_url("/")),
        **settings,
    }
    adapter = create_adapter(
        AdapterContext(
            configuration_id="cfg-hubspot",
            type="hubspot",
            label="HubSpot",
            settings=config,
            secrets={"access_token": sim.token},
            http=http,
        )
    )
    return sim, adapter
