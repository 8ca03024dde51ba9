"""Fuzz run (not a test): every operation of the /api/v1 OpenAPI document, property-based
with schemathesis, against the real service on loopback; prints the operations fuzzed,
the cases sent, the answers by status class and every answer >= 500 with a curl line to
reproduce it.

    .venv/bin/python bench/fuzz_api.py                    # SQLite, 50 examples a run
    .venv/bin/python bench/fuzz_api.py --db postgres --examples 100
    .venv/bin/python bench/fuzz_api.py --only interactions --examples 500

Each operation runs four times (valid and invalid cases, generated and known ids), so the
cases sent are about 4 x operations x --examples. The exit status is 1 when any answer is
>= 500. PostgreSQL: a throw-away database on CUSTOMER_CARD_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.storage.db import upgrade_database  # noqa: E402
from tests.bot.api_fuzz import fuzz, serving  # noqa: E402
from tests.bot.conftest import ADMIN_KEY, make_settings  # noqa: E402
from tests.conftest import _create_pg_database, _drop_pg_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--examples", type=int, default=50, help="per operation, mode, ids")
    parser.add_argument("--only", nargs="*", default=(), help="operation label fragments")
    parser.add_argument("--seed", type=int, default=None, help="random (default: fixed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        pg_name = None
        if args.db == "postgres":
            url, pg_name = asyncio.run(_create_pg_database())
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
        try:
            asyncio.run(upgrade_database(url))
            settings = make_settings(tmp_path, url, max_body_bytes=256 * 1024)
            started = time.monotonic()
            with serving(settings) as base_url:
                report = fuzz(
                    base_url,
                    ADMIN_KEY,
                    max_examples=args.examples,
                    only=tuple(args.only),
                    seed=args.seed,
                )
            seconds = time.monotonic() - started
        finally:
            if pg_name is not None:
                asyncio.run(_drop_pg_database(pg_name))
    print(f"{args.db}: {report.summary()} in {seconds:.0f} s")
    for status, count in sorted(report.statuses.items()):
        print(f"  {status}: {count}")
    for failure in report.failures[:50]:
        print(f"\n{failure.operation} -> {failure.status}\n  {failure.curl[:2000]}")
    return 1 if report.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
