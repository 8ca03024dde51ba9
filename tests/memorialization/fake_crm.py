"""A CRM stand-in that fails on demand: a small aiohttp app on loopback plus the httpx
adapter that speaks to it (``crm.protocol.CrmAdapter``).

The app behaves like a real CRM where it matters here: it does not deduplicate activities
itself (the adapter checks the idempotency key first, as the real adapters do), it refuses
text longer than a field's maximum length, and the failures it is told to produce look like
the real thing: 500, 429 with ``Retry-After``, and a reply that comes too late after the
write already happened.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from crm.errors import (
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from crm.http import QuotaHeaders, observe_response, parse_retry_after, translate_transport_errors
from crm.models import (
    CrmRecord,
    CrmSystem,
    FieldInfo,
    FieldType,
    FieldValue,
    RecordType,
    RecordWrite,
    SearchQuery,
    TimelineActivity,
    TimelineRef,
)
from crm.protocol import WriteOutcome
from crm.record_write import write_in_turn

FIELDS: dict[str, list[FieldInfo]] = {
    "contact": [
        FieldInfo(
            name="last_call_skill", label="Last call skill", type=FieldType.TEXT, max_length=80
        ),
        FieldInfo(
            name="last_disposition", label="Last disposition", type=FieldType.TEXT, max_length=80
        ),
        FieldInfo(name="last_call_at", label="Last call at", type=FieldType.TEXT, max_length=40),
        FieldInfo(name="tags", label="Tags", type=FieldType.TEXT, max_length=200),
        FieldInfo(name="vip_flag", label="VIP", type=FieldType.TEXT, max_length=10),
        FieldInfo(name="transcript", label="Transcript", type=FieldType.LONG_TEXT, max_length=1000),
    ],
    "task": [  # takes no timeline activity of its own
        FieldInfo(name="status", label="Status", type=FieldType.TEXT, max_length=40),
    ],
    "case": [
        FieldInfo(
            name="description", label="Description", type=FieldType.LONG_TEXT, max_length=500
        ),
        FieldInfo(name="status", label="Status", type=FieldType.TEXT, max_length=40),
    ],
}


@dataclass
class Failure:
    kind: str  # "500" | "429" | "timeout" | "400" | "404"
    retry_after: float | None = None
    only: str | None = None  # "update" | "timeline" | "fields": only requests of that kind


@dataclass
class FakeCrmState:
    latency: float = 0.0
    hang_seconds: float = 1.0  # how late a "timeout" reply comes
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    call_times: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, kind)
    updates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    finds: Counter[str] = field(default_factory=Counter)  # look-ups by activity key
    batch_sizes: list[int] = field(default_factory=list)  # writes per batch request
    _call_seen: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_record(self, record_type: str, record_id: str, **fields: Any) -> None:
        self.records[(record_type, record_id)] = dict(fields)

    def fail_next(
        self, count: int, kind: str, *, retry_after: float | None = None, only: str | None = None
    ) -> None:
        self.failures.extend(Failure(kind, retry_after, only) for _ in range(count))

    async def wait_for_calls(self, kind: str, count: int) -> None:
        """Until the CRM has received ``count`` calls of ``kind`` (the test's safety
        timeout applies)."""
        while self.calls[kind] < count:
            self._call_seen.clear()
            await self._call_seen.wait()

    def activities_by_key(self) -> Counter[str]:
        return Counter(activity["key"] for activity in self.activities)

    def _take_failure(self, kind: str) -> Failure | None:
        for index, failure in enumerate(self.failures):
            if failure.only in (None, kind):
                return self.failures.pop(index)
        return None


STATE = web.AppKey("state", FakeCrmState)
QUOTA_HEADERS = QuotaHeaders()  # the stand-in advertises no quota


def _error(status: int, message: str, retry_after: float | None = None) -> web.Response:
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    return web.json_response({"message": message}, status=status, headers=headers)


async def _guard(request: web.Request, kind: str) -> tuple[web.Response | None, Failure | None]:
    """Count the call, wait the latency, and answer a programmed failure (None: proceed)."""
    state = request.app[STATE]
    state.calls[kind] += 1
    state._call_seen.set()
    state.call_times.append((time.monotonic(), kind))
    if state.latency:
        await asyncio.sleep(state.latency)
    failure = state._take_failure(kind)
    if failure is None or failure.kind == "timeout":
        return None, failure
    if failure.kind == "429":
        return _error(429, "Too many requests", failure.retry_after), None
    return _error(int(failure.kind), f"Programmed failure {failure.kind}"), None


async def _late(failure: Failure | None, state: FakeCrmState) -> None:
    # the write has happened; the reply comes after the client gave up
    if failure is not None and failure.kind == "timeout":
        await asyncio.sleep(state.hang_seconds)


async def _record(
    request: web.Request, kind: str
) -> tuple[web.Response | None, tuple[str, str], Failure | None]:
    """``_guard``, then the record the path names (404 when there is none)."""
    reply, failure = await _guard(request, kind)
    key = (request.match_info["type"], request.match_info["id"])
    if reply is None and key not in request.app[STATE].records:
        reply = _error(404, "No such record")
    return reply, key, failure


def _record_json(state: FakeCrmState, key: tuple[str, str]) -> web.Response:
    return web.json_response({"type": key[0], "id": key[1], "fields": state.records[key]})


async def _get_record(request: web.Request) -> web.Response:
    state = request.app[STATE]
    reply, key, failure = await _record(request, "get")
    if reply:
        return reply
    await _late(failure, state)
    return _record_json(state, key)


async def _patch_record(request: web.Request) -> web.Response:
    state = request.app[STATE]
    reply, key, failure = await _record(request, "update")
    if reply:
        return reply
    body = await request.json()
    problem = _field_problem(key[0], body)
    if problem:
        return _error(400, problem)
    _apply_update(state, key, body)
    await _late(failure, state)
    return _record_json(state, key)


def _field_problem(record_type: str, body: dict[str, Any]) -> str | None:
    limits = {info.name: info.max_length for info in FIELDS.get(record_type, [])}
    for name, value in body.items():
        if name not in limits:
            return f"No such field {name}"
        if limits[name] is not None and len(str(value)) > limits[name]:
            return f"STRING_TOO_LONG: {name}"
    return None


def _apply_update(state: FakeCrmState, key: tuple[str, str], body: dict[str, Any]) -> None:
    state.records[key].update(body)
    state.updates.append((key[0], key[1], dict(body)))


def _link_activity(state: FakeCrmState, body: dict[str, Any], look_up: bool) -> dict[str, Any]:
    if look_up:
        state.finds[body["key"]] += 1
        for activity in state.activities:
            if activity["key"] == body["key"]:
                return {"id": activity["id"], "created": False}
    activity = {"id": f"act-{next(state._ids)}", **body}
    state.activities.append(activity)
    return {"id": activity["id"], "created": True}


async def _batch(request: web.Request) -> web.Response:
    """Several records' writes in one request (shaped like HubSpot's batch endpoints: one
    answer per input, the request itself failing only as a whole)."""
    state = request.app[STATE]
    reply, failure = await _guard(request, "batch")
    if reply:
        return reply
    results: list[dict[str, Any] | None] = []
    writes = (await request.json())["writes"]
    state.batch_sizes.append(len(writes))
    for write in writes:
        key = (write["record_type"], write["record_id"])
        if key not in state.records:
            results.append({"status": 404, "message": "No such record"})
            continue
        problem = _field_problem(key[0], write["fields"])
        if problem:
            results.append({"status": 400, "message": problem})
            continue
        if write["fields"]:
            _apply_update(state, key, write["fields"])
        activity = write["activity"]
        results.append(_link_activity(state, activity, write["look_up"]) if activity else None)
    await _late(failure, state)
    return web.json_response({"results": results})


async def _fields(request: web.Request) -> web.Response:
    reply, _ = await _guard(request, "fields")
    if reply:
        return reply
    infos = FIELDS.get(request.match_info["type"])
    if infos is None:
        return _error(404, "No such record type")
    return web.json_response([info.model_dump(mode="json") for info in infos])


async def _find_activities(request: web.Request) -> web.Response:
    state = request.app[STATE]
    reply, _ = await _guard(request, "find_timeline")
    if reply:
        return reply
    key = request.query.get("key", "")
    state.finds[key] += 1
    return web.json_response([a for a in state.activities if a["key"] == key])


async def _create_activity(request: web.Request) -> web.Response:
    state = request.app[STATE]
    reply, failure = await _guard(request, "timeline")
    if reply:
        return reply
    body = await request.json()
    if (body["record_type"], body["record_id"]) not in state.records:
        return _error(404, "No such record")
    activity = {"id": f"act-{next(state._ids)}", **body}
    state.activities.append(activity)
    await _late(failure, state)
    return web.json_response({"id": activity["id"]}, status=201)


def create_app(state: FakeCrmState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_get("/records/{type}/{id}", _get_record)
    app.router.add_patch("/records/{type}/{id}", _patch_record)
    app.router.add_get("/fields/{type}", _fields)
    app.router.add_get("/activities", _find_activities)
    app.router.add_post("/activities", _create_activity)
    app.router.add_post("/batch", _batch)
    return app


def _error_for(status: int, message: str, retry_after: str | None = None) -> CrmError:
    if status == 429:
        return CrmRateLimitedError(
            "Fake CRM throttled the request",
            vendor_status=status,
            retry_after=parse_retry_after(retry_after),
        )
    if status == 404:
        return CrmNotFoundError("Record not found", vendor_status=status, vendor_message=message)
    if status >= 500:
        return CrmUnavailableError("Fake CRM failed", vendor_status=status)
    return CrmRejectedError(
        "Fake CRM refused the request", vendor_status=status, vendor_message=message
    )


class FakeCrmAdapter:
    """``CrmAdapter`` for the stand-in, translating its replies at the edge like a real one."""

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._http = http

    @property
    def system(self) -> CrmSystem:
        return CrmSystem(type="fake", label="Fake CRM", base_url=self._base)

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with translate_transport_errors("Fake CRM"):
            response = await self._http.request(method, self._base + path, **kwargs)
        observe_response(QUOTA_HEADERS, response)  # counted per job, as a vendor's are
        if response.status_code < 400:
            return response
        message = response.json().get("message", "") if response.content else ""
        raise _error_for(response.status_code, message, response.headers.get("Retry-After"))

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        return []

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        body = (await self._request("GET", f"/records/{record_type}/{record_id}")).json()
        return CrmRecord(type=record_type, id=record_id, title=record_id, fields=body["fields"])

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        return []

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        raise CrmRejectedError("The fake CRM creates no records")

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        body = (
            await self._request("PATCH", f"/records/{record_type}/{record_id}", json=dict(fields))
        ).json()
        return CrmRecord(type=record_type, id=record_id, title=record_id, fields=body["fields"])

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        return await self._add_activity(activity, True)

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        return await write_in_turn(write, self.update, self._add_activity)

    async def _add_activity(self, activity: TimelineActivity, look_up: bool) -> TimelineRef:
        if look_up:
            found = (await self._request("GET", "/activities", params={"key": activity.key})).json()
            if found:
                return TimelineRef(id=found[0]["id"], type="activity", created=False)
        created = (
            await self._request("POST", "/activities", json=activity.model_dump(mode="json"))
        ).json()
        return TimelineRef(id=created["id"], type="activity", created=True)

    async def list_record_types(self) -> list[RecordType]:
        return [
            RecordType(name=name, label=name.title(), supports_timeline=name != "task")
            for name in FIELDS
        ]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        body = (await self._request("GET", f"/fields/{record_type}")).json()
        return [FieldInfo.model_validate(item) for item in body]

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._base}/records/{record_type}/{record_id}"

    async def check(self) -> list[str]:
        await self._request("GET", "/fields/contact")
        return []

    async def aclose(self) -> None:
        return None


class FakeBatchCrmAdapter(FakeCrmAdapter):
    """The stand-in with its batch request (``crm.protocol.BatchWriting``)."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, limit: int = 10) -> None:
        super().__init__(base_url, http)
        self._limit = limit

    @property
    def write_batch_limit(self) -> int:
        return self._limit

    async def write_records(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        body = {
            "writes": [
                {
                    "record_type": write.record_type,
                    "record_id": write.record_id,
                    "fields": write.fields,
                    "activity": write.activity.model_dump(mode="json") if write.activity else None,
                    "look_up": write.activity_may_exist,
                }
                for write in writes
            ]
        }
        results = (await self._request("POST", "/batch", json=body)).json()["results"]
        outcomes: list[WriteOutcome] = []
        for result in results:
            if result is None:
                outcomes.append(None)
            elif "status" in result:
                outcomes.append(_error_for(result["status"], result["message"]))
            else:
                outcomes.append(
                    TimelineRef(id=result["id"], type="activity", created=result["created"])
                )
        return outcomes
