"""Property-based fuzzing of the served OpenAPI document with schemathesis (Hypothesis):
every operation, valid and invalid cases, over real HTTP on loopback. Used by the bounded
smoke run in tests/bot/test_api_fuzz.py and the full run in bench/fuzz_api.py.

The service runs in a thread of its own (schemathesis calls it with ``requests``, which
blocks), on a database the caller made. Each operation is fuzzed twice: with generated path
parameters (mostly unknown ids) and with the ids of the default configuration and one of
its workflows, so the cases reach past the 404s.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from bot.app import create_app
from bot.settings import Settings

__all__ = ["FuzzReport", "fuzz", "serving"]


@contextlib.contextmanager
def serving(app_settings: Settings) -> Iterator[str]:
    """The service on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(app_settings))
    ready = threading.Event()
    address: list[str] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        address.append(f"http://127.0.0.1:{port}")
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started = asyncio.run_coroutine_threadsafe(start(), loop)
    started.result(timeout=60)
    ready.wait(60)
    try:
        yield address[0]
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@dataclass
class Failure:
    operation: str
    status: int
    curl: str


@dataclass
class FuzzReport:
    operations: int = 0
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        return (
            f"{self.operations} operations, {self.cases} cases, "
            f"{self.server_errors} responses >= 500 ({dict(sorted(by_class.items()))})"
        )


def _known_ids(base_url: str, headers: dict[str, str]) -> dict[str, str]:
    configs = requests.get(f"{base_url}/api/v1/configurations", headers=headers, timeout=30)
    config = next(c for c in configs.json()["configurations"] if c["isDefault"])
    workflows = requests.get(
        f"{base_url}/api/v1/configurations/{config['id']}/workflows", headers=headers, timeout=30
    )
    return {
        "configuration_id": config["id"],
        "item_id": workflows.json()["workflows"][0]["workflowId"],
        "record_type": "contact",
    }


def fuzz(
    base_url: str,
    admin_key: str,
    *,
    max_examples: int,
    only: tuple[str, ...] = (),
    seed: int | None = None,
) -> FuzzReport:
    """Fuzz every operation of the served document (or those whose label contains one of
    ``only``), positive and negative cases, ``max_examples`` per operation, mode and id
    choice. Schemathesis' own checks are not run: this counts the answers >= 500."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    document = requests.get(f"{base_url}/api/v1/openapi.json", headers=headers, timeout=30)
    schema = schemathesis.openapi.from_dict(document.json())
    known = _known_ids(base_url, headers)
    report = FuzzReport()
    session = requests.Session()
    # deletions last, the configuration's own last of all: the known ids stay known
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (op.method.upper() == "DELETE", -op.path.count("/")),
    )
    for operation in operations:
        if only and not any(part in operation.label for part in only):
            continue
        report.operations += 1
        names = {p.name for p in operation.path_parameters}
        fixed = {name: value for name, value in known.items() if name in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in ({}, fixed) if fixed else ({},):
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters or None
                )
                _run(
                    strategy,
                    session,
                    base_url,
                    headers,
                    operation.label,
                    report,
                    max_examples,
                    seed,
                )
    return report


def _run(
    strategy: Any,
    session: requests.Session,
    base_url: str,
    headers: dict[str, str],
    label: str,
    report: FuzzReport,
    max_examples: int,
    seed: int | None,
) -> None:
    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        report.cases += 1
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.failures.append(Failure(label, response.status_code, case.as_curl_command()))

    try:
        check()
    except Unsatisfiable:  # no invalid case exists (an operation without inputs)
        pass
