"""The demo CRM's database: concurrent writers, in-memory URLs, result order across types,
statements and latency per call."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.storage.db import create_demo_crm_engine
from crm.demo import DemoCrm
from crm.models import CrmRecord, EmailSearch, PhoneSearch, TextSearch, TimelineActivity


@pytest.fixture
def demo_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'demo-crm.db'}"


async def _write_a_lot(adapter: DemoCrm, tag: str, count: int) -> list[str]:
    """Creates, updates and timeline entries from ``count`` concurrent tasks."""
    [anna] = await adapter.search(PhoneSearch(number="+49 30 1234567"))

    async def one(i: int) -> str:
        contact = await adapter.create(
            "contact", {"last_name": f"{tag}-{i}", "phone": f"+49 30 55{i:05d}"}
        )
        await adapter.update("contact", contact.id, {"title": "Writer"})
        await adapter.add_timeline(
            TimelineActivity(
                key=f"{tag}:{i}", record_type="contact", record_id=anna.id, subject=f"Call {i}"
            )
        )
        case = await adapter.create("case", {"subject": f"{tag} {i}", "contact_id": contact.id})
        return str(case.fields["case_number"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def test_concurrent_writers_of_one_process_share_the_file(demo_url) -> None:
    adapter = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
    try:
        numbers = await _write_a_lot(adapter, "task", 40)
        timeline = await adapter.timeline(
            "contact", (await adapter.search(PhoneSearch(number="+49 30 1234567")))[0].id
        )
        assert {t.title for t in timeline} >= {f"Call {i}" for i in range(40)}
        assert len(set(numbers)) == 40  # each case numbered inside its own write
        found = await adapter.search(TextSearch(text="task-", record_types=["contact"], limit=100))
        assert len(found) == 40 and all(r.fields["title"] == "Writer" for r in found)
    finally:
        await adapter.aclose()


async def test_writers_of_two_processes_share_the_file(demo_url) -> None:
    """A second writer with its own connections and event loop (as the CLI or a worker
    process has) meets this one's lock and waits for it instead of failing."""

    async def other_process() -> list[str]:
        other = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
        try:
            return await _write_a_lot(other, "other", 30)
        finally:
            await other.aclose()

    adapter = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
    try:
        await adapter.check()  # tables and sample data exist before both start writing
        ours, theirs = await asyncio.gather(
            _write_a_lot(adapter, "ours", 30), asyncio.to_thread(asyncio.run, other_process())
        )
        assert len(set(ours) | set(theirs)) == 60
    finally:
        await adapter.aclose()


async def test_reads_start_no_database_thread(demo_url) -> None:
    adapter = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
    try:
        await adapter.check()
        before = threading.active_count()
        [anna] = await adapter.search(PhoneSearch(number="+49 30 1234567"))
        assert await adapter.related(anna)
        assert threading.active_count() == before
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_in_memory_database(url) -> None:
    adapter = DemoCrm(url, open_engine=create_demo_crm_engine)
    try:
        [anna] = await adapter.search(PhoneSearch(number="+49 30 1234567"))
        ref = await adapter.add_timeline(
            TimelineActivity(key="k", record_type="contact", record_id=anna.id, subject="Call")
        )
        assert [t.id for t in await adapter.timeline("contact", anna.id)][-1] == ref.id
        assert await adapter.related(anna)
    finally:
        await adapter.aclose()


# --- order of results that span record types ---------------------------------------------

_SHARED_PHONE = "+49 69 5550177"
_SHARED_EMAIL = "shared@example.org"


def _keys(records: list[CrmRecord]) -> list[tuple[str, str]]:
    return [(r.type, r.title) for r in records]


async def _shared_number_everywhere(adapter: DemoCrm) -> None:
    await adapter.create("account", {"name": "Zeta AG", "phone": _SHARED_PHONE})
    await adapter.create("account", {"name": "Alpha GmbH", "phone": "069 5550177"})
    for first, last in [("Berta", "Zorn"), ("Anton", "Zorn"), ("Carl", "Adler")]:
        await adapter.create(
            "lead",
            {
                "first_name": first,
                "last_name": last,
                "company": "X",
                "mobile_phone": _SHARED_PHONE,
                "email": _SHARED_EMAIL,
            },
        )
    for first, last in [("Dora", "Meier"), ("Emil", "Abel"), ("Anna", "Meier")]:
        await adapter.create(
            "contact",
            {
                "first_name": first,
                "last_name": last,
                "phone": _SHARED_PHONE,
                "email": _SHARED_EMAIL,
            },
        )


async def test_phone_and_email_search_keep_type_order_then_title_order(database_url) -> None:
    adapter = DemoCrm(database_url, seed="empty", open_engine=create_demo_crm_engine)
    try:
        await _shared_number_everywhere(adapter)
        contacts = [("contact", "Emil Abel"), ("contact", "Anna Meier"), ("contact", "Dora Meier")]
        leads = [("lead", "Carl Adler"), ("lead", "Anton Zorn"), ("lead", "Berta Zorn")]
        accounts = [("account", "Alpha GmbH"), ("account", "Zeta AG")]
        found = await adapter.search(PhoneSearch(number=_SHARED_PHONE, limit=10))
        assert _keys(found) == contacts + leads + accounts
        for limit in (1, 3, 4, 7):
            found = await adapter.search(PhoneSearch(number=_SHARED_PHONE, limit=limit))
            assert _keys(found) == (contacts + leads + accounts)[:limit]
        found = await adapter.search(
            PhoneSearch(number=_SHARED_PHONE, record_types=["account", "lead"], limit=4)
        )
        assert _keys(found) == accounts + leads[:2]
        found = await adapter.search(EmailSearch(email=_SHARED_EMAIL.upper(), limit=5))
        assert _keys(found) == contacts + leads[:2]
    finally:
        await adapter.aclose()


async def test_related_keeps_type_order_then_title_order(database_url) -> None:
    adapter = DemoCrm(database_url, seed="empty", open_engine=create_demo_crm_engine)
    try:
        account = await adapter.create("account", {"name": "Nord AG"})
        people = {}
        for first, last in [("Dora", "Meier"), ("Emil", "Abel"), ("Anna", "Meier")]:
            people[first] = await adapter.create(
                "contact", {"first_name": first, "last_name": last, "account_id": account.id}
            )
        dora = people["Dora"]
        for subject, status, owner in [
            ("Zahlung", "New", {"contact_id": dora.id, "account_id": account.id}),
            ("Abholung", "Working", {"account_id": account.id}),
            ("Alt", "Closed", {"contact_id": dora.id}),
            ("Bestellung", "Escalated", {"contact_id": people["Emil"].id}),  # not Dora's
        ]:
            await adapter.create("case", {"subject": subject, "status": status, **owner})
        for name, status in [("Plus", "Active"), ("Basic", "Cancelled"), ("Premium", "Paused")]:
            await adapter.create(
                "custom_subscription", {"name": name, "status": status, "account_id": account.id}
            )
        expected = [
            ("account", "Nord AG"),
            ("contact", "Emil Abel"),
            ("contact", "Anna Meier"),
            ("case", "Abholung"),
            ("case", "Zahlung"),
            ("custom_subscription", "Plus"),
            ("custom_subscription", "Premium"),
        ]
        assert _keys(await adapter.related(dora)) == expected
        for limit in (0, 1, 2, 4, 6):
            assert _keys(await adapter.related(dora, limit=limit)) == expected[:limit]
        [case] = [r for r in await adapter.related(dora) if r.title == "Zahlung"]
        assert _keys(await adapter.related(case, limit=3)) == [
            ("account", "Nord AG"),
            ("contact", "Dora Meier"),
            ("contact", "Emil Abel"),
        ]
    finally:
        await adapter.aclose()


# --- cost and latency per call -----------------------------------------------------------


async def test_a_phone_search_is_one_statement_and_related_two(demo_url) -> None:
    adapter = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    try:
        [anna] = await adapter.search(PhoneSearch(number="+49 30 1234567"))  # creates, seeds
        event.listen(Engine, "before_cursor_execute", seen)
        try:
            await adapter.search(PhoneSearch(number="+49 30 1234567"))
            assert len(statements) == 1
            await adapter.related(anna)
            assert len(statements) == 3
        finally:
            event.remove(Engine, "before_cursor_execute", seen)
    finally:
        await adapter.aclose()


async def test_latency_applies_once_per_call(demo_url) -> None:
    ready = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
    [anna] = await ready.search(PhoneSearch(number="+49 30 1234567"))
    await ready.aclose()
    slow = DemoCrm(demo_url, latency_ms=250, open_engine=create_demo_crm_engine)

    async def timed(call: Awaitable[Any]) -> float:
        started = time.monotonic()
        await call
        return time.monotonic() - started

    try:
        durations = await asyncio.gather(
            timed(slow.search(PhoneSearch(number="+49 30 1234567"))),
            timed(slow.related(anna)),
            timed(slow.get("contact", anna.id)),
            timed(slow.timeline("contact", anna.id)),
            timed(slow.create("contact", {"last_name": "Neu"})),
            timed(
                slow.add_timeline(
                    TimelineActivity(
                        key="once", record_type="contact", record_id=anna.id, subject="Call"
                    )
                )
            ),
        )
    finally:
        await slow.aclose()
    assert all(0.24 <= seconds < 0.49 for seconds in durations), durations
