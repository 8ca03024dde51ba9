"""A test-only CRM (integration type ``flaky``) whose vendor API can refuse, fail or hang.

``FakeVendor`` is a tiny aiohttp app on loopback; ``FlakyAdapter`` speaks to it over real
HTTP and translates its answers at its edge like every real adapter: 4xx -> CrmRejectedError
with the vendor's message, 5xx and transport errors -> CrmUnavailableError (timeouts flagged).
In ``reject`` mode the vendor echoes the caller's Authorization header back in its message,
so tests can prove that secret values never reach a response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from crm.errors import CrmRejectedError, CrmUnavailableError
from crm.http import translate_transport_errors
from crm.models import (
    CrmRecord,
    CrmSystem,
    FieldInfo,
    FieldType,
    FieldValue,
    RecordType,
    SearchQuery,
    TimelineActivity,
    TimelineRef,
)
from crm.registry import AdapterContext, register
from crm.settings import GenericSettings

TYPE = "flaky"
MODULE = "tests.config.flaky_crm"


class FakeVendor:
    def __init__(self) -> None:
        self.mode = "ok"  # ok | reject | error | hang

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        if self.mode == "hang":
            await asyncio.sleep(2)
        if self.mode == "reject":
            return web.json_response(
                {
                    "message": "Field phone is invalid for key "
                    + request.headers.get("Authorization", "")
                },
                status=400,
            )
        if self.mode == "error":
            return web.json_response({"message": "internal"}, status=500)
        if request.path.endswith("/search"):
            return web.json_response([{"id": "1", "name": "Flaky Person"}])
        return web.json_response({"ok": True})


class FlakyAdapter:
    def __init__(self, context: AdapterContext) -> None:
        self._api = str(context.settings["api_base"]).rstrip("/")
        self._timeout = float(context.settings.get("timeout_seconds") or 5)
        self._key = context.secrets.get("api_key", "")
        self._http = context.http
        self._system = CrmSystem(type=TYPE, label=context.label, base_url=self._api)

    @property
    def system(self) -> CrmSystem:
        return self._system

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with translate_transport_errors("Flaky CRM"):
            response = await self._http.request(
                method,
                self._api + path,
                json=body,
                timeout=self._timeout,
                headers={"Authorization": f"Bearer {self._key}"},
            )
        if response.status_code >= 500:
            raise CrmUnavailableError("Flaky CRM failed", vendor_status=response.status_code)
        if response.status_code >= 400:
            raise CrmRejectedError(
                "Flaky CRM refused the request",
                vendor_status=response.status_code,
                vendor_message=response.json().get("message"),
            )
        return response.json()

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        found = await self._call("POST", "/search", query.model_dump(mode="json"))
        return [
            CrmRecord(
                type="contact", id=r["id"], title=r["name"], url=self.record_url("contact", r["id"])
            )
            for r in found
        ]

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        await self._call("GET", f"/records/{record_type}/{record_id}")
        return CrmRecord(type=record_type, id=record_id, title="Flaky Person")

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        return []

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        await self._call("POST", f"/records/{record_type}", dict(fields))
        return CrmRecord(type=record_type, id="new", title="New", fields=dict(fields))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        await self._call("PATCH", f"/records/{record_type}/{record_id}", dict(fields))
        return CrmRecord(type=record_type, id=record_id, title="Flaky Person", fields=dict(fields))

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        await self._call("POST", "/timeline", activity.model_dump(mode="json"))
        return TimelineRef(id="t1", type="task")

    async def list_record_types(self) -> list[RecordType]:
        await self._call("GET", "/types")
        return [RecordType(name="contact", label="Contact")]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        await self._call("GET", f"/fields/{record_type}")
        return [
            FieldInfo(name="name", label="Name", type=FieldType.TEXT),
            FieldInfo(name="phone", label="Phone", type=FieldType.PHONE),
        ]

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._api}/{record_type}/{record_id}"

    async def check(self) -> list[str]:
        await self._call("GET", "/check")
        return []

    async def aclose(self) -> None:
        return None


@register(TYPE, GenericSettings)
def create(context: AdapterContext, settings: GenericSettings) -> FlakyAdapter:
    return FlakyAdapter(context)
