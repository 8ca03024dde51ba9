"""Measurement (not a test): which of the project's files a reader walks through, in order,
following an interaction ``started`` event to the posted card and a Pin to the card update
(up to the call that hands the card to the notifier).

Runs the app in this process (SQLite, the demo CRM, the tests' fake Bot Connector) and
records every *fresh* call of a function defined in ``bot/`` (a coroutine resuming after
an ``await`` is not a new step). A step is a call from one file into another (or a new task
starting in a file); a return is a step into a file the walk had already left. Reported
twice: all steps, and the spine (leaf files left out: files none of whose functions called
into another file during the walk, such as table classes and metrics). A callback is a
call against the import direction: into a module that imports the caller's module (what
``CardSync.bind`` did).

    .venv/bin/python bench/code_walk.py            # the walk, file by file
    .venv/bin/python bench/code_walk.py --all      # include cards/ and crm/
"""

from __future__ import annotations

import argparse
import asyncio
import dis
import sys
import tempfile
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from bot.app import create_app  # noqa: E402
from tests.architecture.import_graph import import_graph  # noqa: E402
from tests.bot.activities import ANNA_AGENT, card_action, install  # noqa: E402
from tests.bot.cardtools import pin_targets  # noqa: E402
from tests.bot.conftest import AUTH, make_settings, started  # noqa: E402
from tests.bot.connector import FakeConnector  # noqa: E402

_SENDS = frozenset({"send_card", "update_card"})
_STARTS: dict[CodeType, int] = {}


def _start_of(code: CodeType) -> int:
    """The offset of the code's first RESUME: a call event at or before it is a new call."""
    start = _STARTS.get(code)
    if start is None:
        start = next((i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"), 0)
        _STARTS[code] = start
    return start


class Walk:
    def __init__(self, packages: tuple[str, ...]) -> None:
        self._roots = tuple(str(ROOT / p) + "/" for p in packages)
        self.steps: list[str] = []
        self.calls: list[tuple[str | None, str]] = []
        self.done = False  # the card went to the connector: the walk ends there

    def _file(self, frame: FrameType | None) -> str | None:
        if frame is None:
            return None
        name = frame.f_code.co_filename
        return name[len(str(ROOT)) + 1 :] if name.startswith(self._roots) else None

    def profile(self, frame: FrameType, event: str, _arg: Any) -> None:
        if self.done or event != "call" or frame.f_lasti > _start_of(frame.f_code):
            return  # a coroutine resumed after an await: not a new call
        callee = self._file(frame)
        caller = self._file(frame.f_back)
        if callee is None or caller == callee:
            return
        self.calls.append((caller, callee))
        self.done = callee == "bot/notifier.py" and frame.f_code.co_name in _SENDS
        if not self.steps or self.steps[-1] != callee:
            self.steps.append(callee)

    def report(self, title: str, verbose: bool) -> None:
        _print_walk(f"{title} (all steps)", self.steps, verbose)
        callers = {caller for caller, _ in self.calls}
        spine: list[str] = []
        for step in self.steps:
            if step in callers and (not spine or spine[-1] != step):
                spine.append(step)
        _print_walk(f"{title} (spine)", spine, True)
        graph = import_graph()
        against = sorted(
            {
                f"{caller} -> {callee}"
                for caller, callee in self.calls
                if caller is not None and _module(caller) in graph.get(_module(callee), set())
            }
        )
        print(f"  callbacks (calls against the import direction): {len(against)}")
        for call in against:
            print(f"    {call}")


def _module(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _print_walk(title: str, steps: list[str], verbose: bool) -> None:
    seen: set[str] = set()
    returns = 0
    print(f"\n{title}: {len(steps)} steps through {len(set(steps))} files")
    for number, step in enumerate(steps, 1):
        again = step in seen
        returns += again
        seen.add(step)
        if verbose:
            print(f"  {number:3} {'<- ' if again else '   '}{step}")
    print(f"  returns to a file already left: {returns}")


async def _until(condition: Any) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110  (the fake connector has no event)
            await asyncio.sleep(0.005)


async def main(packages: tuple[str, ...], verbose: bool) -> None:
    connector = FakeConnector()
    connector_server = TestServer(connector.app())
    await connector_server.start_server()
    service_url = str(connector_server.make_url("/"))
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite+aiosqlite:///{tmp}/service.db"
        client = TestClient(TestServer(create_app(make_settings(Path(tmp), database))))
        await client.start_server()
        connector.members[ANNA_AGENT.teams_id] = ANNA_AGENT.member()
        await client.post("/api/messages", json=install(service_url, ANNA_AGENT))
        body = started(ANNA_AGENT)
        # warm up once (first-use caches: the configuration, the CRM's metadata)
        await client.post("/api/v1/interactions/events", json=started(ANNA_AGENT), headers=AUTH)
        await _until(lambda: len(connector.posts(ANNA_AGENT.conversation_id)) >= 2)
        await asyncio.sleep(0.3)
        posts = len(connector.posts(ANNA_AGENT.conversation_id))

        walk = Walk(packages)
        sys.setprofile(walk.profile)
        await client.post("/api/v1/interactions/events", json=body, headers=AUTH)
        await _until(lambda: len(connector.posts(ANNA_AGENT.conversation_id)) > posts)
        sys.setprofile(None)
        walk.report("started event -> posted card", verbose)
        await asyncio.sleep(0.3)  # the related records' update

        card = connector.posts(ANNA_AGENT.conversation_id)[-1].card
        assert card is not None
        target = next(iter(pin_targets(card, "unpin").values()))
        await client.post(
            "/api/messages", json=card_action(service_url, ANNA_AGENT, "unpin", target)
        )
        await asyncio.sleep(0.3)
        puts = len(connector.puts(ANNA_AGENT.conversation_id))
        walk = Walk(packages)
        sys.setprofile(walk.profile)
        await client.post("/api/messages", json=card_action(service_url, ANNA_AGENT, "pin", target))
        await _until(lambda: len(connector.puts(ANNA_AGENT.conversation_id)) > puts)
        sys.setprofile(None)
        walk.report("unpin, pin -> card update", verbose)
        await client.close()
    await connector_server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="cards/ and crm/ too")
    parser.add_argument("--steps", action="store_true", help="list every step, not only the spine")
    args = parser.parse_args()
    asyncio.run(main(("bot", "cards", "crm") if args.all else ("bot",), args.steps))
