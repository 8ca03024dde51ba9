"""Benchmark (not a test): CPU cost of crm.phone per caller look-up.

Every phone search builds the ANI's variants once (``phone_variants``) and re-checks each
candidate's phone entries (``stored_number_matches``). This times both on a German ANI
against the stored forms of tests/crm/dataset.py (process CPU time per call).

    .venv/bin/python bench/phone_bench.py --count 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

from crm.phone import phone_variants, stored_number_matches  # noqa: E402
from tests.crm.dataset import PEOPLE, STORED_FORMS  # noqa: E402

_STORED = [stored for stored, _ in STORED_FORMS] + [p.phone for p in PEOPLE]


def _per_call(count: int, work: object) -> float:
    assert callable(work)
    start = time.process_time()
    for _ in range(count):
        work()
    return (time.process_time() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    count = parser.parse_args().count
    variants = phone_variants("+491605550108", "DE")
    build = _per_call(count, lambda: phone_variants("+491605550108", "DE"))
    check = _per_call(
        count, lambda: [stored_number_matches(s, variants, "DE") for s in _STORED]
    ) / len(_STORED)
    print(f"phone_variants         {build:8.1f} us CPU/call  ({len(variants)} forms)")
    print(f"stored_number_matches  {check:8.1f} us CPU/call  (over {len(_STORED)} stored forms)")


if __name__ == "__main__":
    main()
