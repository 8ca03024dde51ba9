"""Two service processes on one PostgreSQL database behave as one service: an agent installs
through replica A, the interaction starts through replica B, the pin is handled by A (which
updates B's message in place), and a repeated event sent to A is acknowledged and ignored.

The replicas are real ``python -m bot.cli serve`` processes (JSON logs on stderr, kept in
files); the Bot Connector is a fake in this process that both replicas call."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.storage.db import create_engine, session_factory
from bot.storage.tables import InteractionEventRow, InteractionRow
from tests.bot.activities import ANNA_AGENT, card_action, install
from tests.bot.cardtools import pin_targets
from tests.bot.conftest import follow_up, started
from tests.serving import clean_environment, free_port, serve_command

from .conftest import sample

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

API_KEY = "replica-platform-key-5f1c9a"
ADMIN_KEY = "replica-admin-key-83be20"
SECRET_KEY = "replica-secret-key-passphrase-77"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class Replica:
    name: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return clean_environment(
        CUSTOMER_CARD_DATABASE_URL=database_url,
        CUSTOMER_CARD_DEMO_CRM_URL=database_url,  # one demo CRM for both replicas
        CUSTOMER_CARD_DATA_DIR=str(data_dir),
        CUSTOMER_CARD_API_KEYS=API_KEY,
        CUSTOMER_CARD_ADMIN_API_KEYS=ADMIN_KEY,
        CUSTOMER_CARD_SECRET_KEY=SECRET_KEY,
        CUSTOMER_CARD_LOG_FORMAT="json",
        CUSTOMER_CARD_LOG_LEVEL="INFO",
    )


async def _start(name: str, database_url: str, tmp_path: Path) -> Replica:
    port = free_port()
    home = tmp_path / name
    home.mkdir()
    log = home / "stderr.log"
    with log.open("wb") as stderr:  # a file, not a pipe: a full pipe would stall the replica
        process = await asyncio.create_subprocess_exec(
            *serve_command(port),
            env=_environment(database_url, home / "data"),
            cwd=home,  # cwd: no stray .env
            stdout=stderr,
            stderr=stderr,
        )
    return Replica(name, port, process, log)


async def _ready(replica: Replica, http: httpx.AsyncClient, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if replica.process.returncode is not None:
            break
        try:
            if (await http.get(f"{replica.url}/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    tail = "\n".join(replica.log_lines()[-20:])
    raise AssertionError(f"replica {replica.name} did not become ready:\n{tail}")


async def _stop(replica: Replica) -> None:
    if replica.process.returncode is not None:
        return
    replica.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(replica.process.wait(), 15)
    except TimeoutError:
        replica.process.kill()
        await replica.process.wait()


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Replica, Replica]]:
    started_: list[Replica] = []
    try:
        # both start at once, as a rolling deployment starts them, on the migrated database
        started_ += [await _start(name, database_url, tmp_path) for name in ("a", "b")]
        async with httpx.AsyncClient(timeout=5) as http:
            await asyncio.gather(*(_ready(r, http) for r in started_))
        yield started_[0], started_[1]
    finally:
        await asyncio.gather(*(_stop(r) for r in started_))


async def _stored(database_url: str, interaction_id: str) -> tuple[str | None, int]:
    """The interaction's stored card message id and how many events it has."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            row = await session.get(InteractionRow, interaction_id)
            events = await session.scalar(
                select(func.count())
                .select_from(InteractionEventRow)
                .where(InteractionEventRow.interaction_id == interaction_id)
            )
        return (row.card_activity_id if row else None), int(events or 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_any_replica_answers_any_step_of_an_interaction(
    replicas, database_url, connector, service_url
):
    a, b = replicas
    conversation = ANNA_AGENT.conversation_id
    connector.members[ANNA_AGENT.teams_id] = ANNA_AGENT.member()
    async with httpx.AsyncClient(timeout=30) as http:
        # started together on an empty database: still exactly one default configuration
        listed = (
            await http.get(
                f"{b.url}/api/v1/configurations", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
            )
        ).json()
        assert [c["isDefault"] for c in listed["configurations"]].count(True) == 1

        response = await http.post(f"{a.url}/api/messages", json=install(service_url, ANNA_AGENT))
        assert response.status_code in (200, 202), response.text

        event = started(ANNA_AGENT, number="+49 40 5550190")
        interaction_id = event["interactionId"]
        response = await http.post(f"{b.url}/api/v1/interactions/events", json=event, headers=AUTH)
        assert response.status_code == 202, response.text
        posted = await connector.wait_for(
            lambda calls: [
                c
                for c in calls
                if c.method == "POST"
                and c.card
                and c.card.get("msteams")
                and c.conversation_id == conversation
            ],
            seconds=30,
        )
        klaus = pin_targets(posted[0].card)["Klaus Wagner"]
        message_id, _ = await _stored(database_url, interaction_id)
        assert message_id
        posts = len(connector.posts(conversation))

        # the pin goes to the other replica: it answers with the card and PUTs the message
        response = await http.post(
            f"{a.url}/api/messages", json=card_action(service_url, ANNA_AGENT, "pin", klaus)
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["type"] == CARD and "Klaus Wagner" in pin_targets(answer["value"], "unpin")
        put = await connector.wait_for(
            lambda calls: [
                c
                for c in calls
                if c.method == "PUT" and "Klaus Wagner" in pin_targets(c.card or {}, "unpin")
            ],
            seconds=30,
        )
        assert put[0].path.rsplit("/", 1)[1] == message_id
        assert len(connector.posts(conversation)) == posts

        # the same event again, now at replica A: acknowledged, ignored
        response = await http.post(f"{a.url}/api/v1/interactions/events", json=event, headers=AUTH)
        assert response.status_code == 202, response.text
        state = response.json()
        assert state["duplicate"] is True and state["card"] == "posted"
        assert [r["title"] for r in state["current"]] == ["Klaus Wagner"]
        # a later event on A still updates B's message, and nothing was posted anew
        before = len(connector.calls)
        ended = follow_up(interaction_id, "ended", endedBy="contact")
        response = await http.post(f"{a.url}/api/v1/interactions/events", json=ended, headers=AUTH)
        assert response.status_code == 202, response.text
        await connector.wait_for(
            lambda calls: [
                c for c in calls[before:] if c.method == "PUT" and c.path.endswith("/" + message_id)
            ],
            seconds=30,
        )
        assert len(connector.posts(conversation)) == posts
        assert await _stored(database_url, interaction_id) == (message_id, 2)  # started, ended

        # each replica counts what it handled (an admin key opens /metrics too)
        admin_auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
        metrics_a = (await http.get(f"{a.url}/metrics", headers=admin_auth)).text
        metrics_b = (await http.get(f"{b.url}/metrics", headers=admin_auth)).text
    events = "customer_card_interaction_events_total"
    assert sample(metrics_b, events, type="started", outcome="accepted") == 1
    assert sample(metrics_a, events, type="started", outcome="duplicate") == 1
    assert (
        sample(
            metrics_a,
            "customer_card_activities_total",
            type="invoke",
            name="adaptiveCard/action",
            outcome="ok",
        )
        == 1
    )

    # JSON logs: every line parses, the event's line carries the interaction id, no key
    lines = a.log_lines() + b.log_lines()
    entries = [json.loads(line) for line in lines]
    assert any(e.get("interaction_id") == interaction_id for e in entries)
    for secret in (API_KEY, ADMIN_KEY, SECRET_KEY):
        assert not [line for line in lines if secret in line]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_change_at_another_replica_before_the_card_is_out_gives_one_card(
    replicas, database_url, connector, service_url
):
    """The replica that stored ``started`` posts the card; the other, handed an update while
    the caller look-up is still running, does not post a second card but updates the one
    posted."""
    a, b = replicas
    conversation = ANNA_AGENT.conversation_id
    connector.members[ANNA_AGENT.teams_id] = ANNA_AGENT.member()
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(timeout=30) as http:
        configs = (await http.get(f"{a.url}/api/v1/configurations", headers=admin)).json()
        default = next(c for c in configs["configurations"] if c["isDefault"])
        response = await http.patch(  # a slow CRM: the look-up takes 0.8 s
            f"{a.url}/api/v1/configurations/{default['id']}",
            headers=admin,
            json={"settings": {**default.get("settings", {}), "latency_ms": 800}},
        )
        assert response.status_code == 200, response.text
        response = await http.post(f"{a.url}/api/messages", json=install(service_url, ANNA_AGENT))
        assert response.status_code in (200, 202), response.text
        await asyncio.sleep(2.1)  # both replicas see the slow CRM (configuration cache)

        event = started(ANNA_AGENT, number="+49 40 5550190")
        interaction_id = event["interactionId"]
        response = await http.post(f"{b.url}/api/v1/interactions/events", json=event, headers=AUTH)
        assert response.status_code == 202, response.text
        update = follow_up(interaction_id, "updated", data={"Skill Name": "Escalation DE"})
        response = await http.post(f"{a.url}/api/v1/interactions/events", json=update, headers=AUTH)
        assert response.status_code == 202, response.text

        await connector.wait_for(
            lambda calls: [
                c
                for c in calls
                if c.conversation_id == conversation
                and c.card
                and "Escalation DE" in json.dumps(c.card)
            ],
            seconds=30,
        )
        await asyncio.sleep(1.5)  # time for a second post, if there were one
    cards = [c for c in connector.posts(conversation) if c.card and c.card.get("msteams")]
    assert len(cards) == 1, [c.path for c in cards]
    message_id, _ = await _stored(database_url, interaction_id)
    last = [c for c in connector.calls if c.conversation_id == conversation and c.card][-1]
    assert last.method == "PUT" and last.path.endswith("/" + message_id)
    assert "Escalation DE" in json.dumps(last.card)


@pytest.mark.postgres
async def test_three_replicas_started_together_on_an_empty_database_all_come_up_cleanly(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    """Compose, Kubernetes and Bicep start several replicas at once on a new database: the
    migrations run once (an advisory lock), the others wait and go on; no error line."""
    started_ = [await _start(name, empty_postgres_url, tmp_path) for name in ("a", "b", "c")]
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            await asyncio.gather(*(_ready(r, http) for r in started_))
    finally:
        await asyncio.gather(*(_stop(r) for r in started_))
    for replica in started_:
        bad = [line for line in replica.log_lines() if _is_error_line(line)]
        assert bad == [], f"replica {replica.name}: {bad}"


def _is_error_line(line: str) -> bool:
    """An error record, or anything that is not a JSON log record (a bare traceback)."""
    try:
        record = json.loads(line)
    except ValueError:
        return True
    level = str(record.get("level", "")).lower()
    return level in ("error", "critical") or "exception" in record
