"""The admin's view: the HTTP API and the ``customer-card memorialization`` commands."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json

import pytest
from aiohttp import web

from bot.api.errors import error_middleware
from bot.api.messages import auth_configuration
from bot.memorialization import leases
from bot.memorialization.api import add_routes
from bot.memorialization.cli import add_commands
from bot.services import SERVICES
from bot.settings import Settings
from bot.startup import build_services, close_services
from bot.storage.db import create_engine, session_factory

from .conftest import make_snapshot
from .helpers import add_jobs

PLATFORM = {"Authorization": "Bearer platform-key"}
ADMIN = {"Authorization": "Bearer admin-key"}


class _Waker:
    def __init__(self) -> None:
        self.woken = 0

    def notify(self) -> None:
        self.woken += 1


async def _failed_and_done(sessions) -> tuple[int, int]:
    await add_jobs(
        sessions, make_snapshot("int-1"), make_snapshot("int-2", targets=[("contact", "c-2")])
    )
    failing, done = await leases.claim(sessions, "w", limit=2, lease_seconds=30)
    await leases.fail(
        sessions,
        failing,
        "w",
        error_code="crm_rejected",
        error="Fake CRM refused the request (No such field x)",
    )
    done.progress.timeline_id = "act-7"
    done.progress.result = {
        "fields": ["tags"],
        "truncated": [{"field": "transcript", "originalLength": 5000, "keptLength": 1000}],
    }
    await leases.complete(sessions, done, "w")
    return failing.id, done.id


@pytest.fixture
async def client(aiohttp_client, sqlite_url, sqlite_sessions, tmp_path):
    app = web.Application(middlewares=[error_middleware])
    settings = Settings(
        api_keys="platform-key",
        admin_api_keys="admin-key",
        database_url=sqlite_url,
        data_dir=str(tmp_path / "data"),
    )
    built = build_services(settings, auth=auth_configuration(settings))
    # the worker is not run here: one that counts its wake-ups stands in
    app[SERVICES] = dataclasses.replace(built, memorialization=_Waker())  # type: ignore[arg-type]
    add_routes(app)
    yield await aiohttp_client(app)
    await close_services(built)


async def test_list_filters_by_status_and_interaction(client, sqlite_sessions):
    failed_id, done_id = await _failed_and_done(sqlite_sessions)
    response = await client.get("/api/v1/memorializations?status=failed", headers=PLATFORM)
    assert response.status == 200
    [job] = (await response.json())["memorializations"]
    assert job["id"] == failed_id and job["status"] == "failed"
    assert job["lastErrorCode"] == "crm_rejected"
    assert job["lastError"] == "Fake CRM refused the request (No such field x)"
    assert "payload" not in job and "snapshot" not in json.dumps(job)

    response = await client.get("/api/v1/memorializations?interactionId=int-2", headers=ADMIN)
    [job] = (await response.json())["memorializations"]
    assert (job["id"], job["status"], job["timelineId"]) == (done_id, "done", "act-7")
    assert job["truncated"] == [{"field": "transcript", "originalLength": 5000, "keptLength": 1000}]
    assert job["completedAt"].endswith("Z")  # UTC


async def test_list_pages_newest_first(client, sqlite_sessions):
    await add_jobs(
        sqlite_sessions,
        *[make_snapshot(f"int-{n}", targets=[("contact", f"c-{n}")]) for n in range(5)],
    )
    first = await (await client.get("/api/v1/memorializations?limit=3", headers=PLATFORM)).json()
    assert [job["id"] for job in first["memorializations"]] == [5, 4, 3]
    second = await (
        await client.get(
            f"/api/v1/memorializations?limit=3&beforeId={first['nextBeforeId']}", headers=PLATFORM
        )
    ).json()
    assert [job["id"] for job in second["memorializations"]] == [2, 1]
    assert second["nextBeforeId"] is None
    assert all(
        job["status"] == "pending" and job["nextAttemptAt"] for job in second["memorializations"]
    )


async def test_retry_requeues_a_failed_job_and_wakes_the_worker(client, sqlite_sessions):
    failed_id, done_id = await _failed_and_done(sqlite_sessions)
    response = await client.post(f"/api/v1/memorializations/{failed_id}/retry", headers=PLATFORM)
    assert response.status == 200
    body = await response.json()
    assert (body["status"], body["attempts"]) == ("pending", 0)
    assert client.app[SERVICES].memorialization.woken == 1
    response = await client.post(f"/api/v1/memorializations/{done_id}/retry", headers=PLATFORM)
    assert response.status == 409
    assert (await response.json())["error"] == "memorialization_not_retryable"
    response = await client.post("/api/v1/memorializations/999/retry", headers=PLATFORM)
    assert response.status == 404
    response = await client.get(f"/api/v1/memorializations/{failed_id}", headers=PLATFORM)
    assert (await response.json())["status"] == "pending"


async def test_bad_queries_and_missing_keys_are_refused(client):
    response = await client.get("/api/v1/memorializations?status=lost", headers=PLATFORM)
    assert response.status == 400
    assert (await response.json())["field"] == "status"
    response = await client.get("/api/v1/memorializations?limit=x", headers=PLATFORM)
    assert (await response.json())["field"] == "limit"
    assert (await client.get("/api/v1/memorializations")).status == 401
    response = await client.post(
        "/api/v1/memorializations/1/retry", headers={"Authorization": "Bearer wrong"}
    )
    assert response.status == 401


# --- command line ----------------------------------------------------------------------


def _cli(argv: list[str], database_url: str) -> int:
    parser = argparse.ArgumentParser(prog="customer-card")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args, Settings(database_url=database_url))


def _prepare(database_url: str) -> tuple[int, int]:
    async def prepare() -> tuple[int, int]:
        engine = create_engine(database_url)
        try:
            return await _failed_and_done(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(prepare())


def test_cli_lists_and_retries(sqlite_url, capsys):
    failed_id, done_id = _prepare(sqlite_url)
    assert _cli(["memorialization", "list", "--status", "failed"], sqlite_url) == 0
    out = capsys.readouterr().out
    assert f"{failed_id:>6}  failed" in out and "crm_rejected" in out
    assert "int-2" not in out

    assert _cli(["memorialization", "retry", str(failed_id)], sqlite_url) == 0
    assert capsys.readouterr().out.strip() == f"Job {failed_id} queued for retry."
    assert _cli(["memorialization", "retry", str(done_id)], sqlite_url) == 1
    assert "only failed or pending" in capsys.readouterr().err

    assert _cli(["memorialization", "list", "--json"], sqlite_url) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(job["id"], job["status"]) for job in lines] == [
        (done_id, "done"),
        (failed_id, "pending"),
    ]
