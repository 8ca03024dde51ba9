"""``serve`` settles the heap once started: start-up objects frozen, cycles still collected.

Run in a child interpreter: freezing is process-wide and would hold on to every earlier
test's objects in this one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import asyncio, gc, json, weakref
from bot import heap
class Node: pass
startup = [Node() for _ in range(1000)]
asyncio.run(heap.settle())
frozen = gc.get_freeze_count()
a, b = Node(), Node()
a.other, b.other = b, a          # a cycle made after start-up
gone = weakref.ref(a)
del a, b
gc.collect()
print(json.dumps({"frozen": frozen, "threshold": gc.get_threshold(),
                  "cycle_collected": gone() is None}))
"""


def test_settle_freezes_startup_objects_and_still_collects_later_cycles() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    result = json.loads(out)
    assert result["frozen"] >= 1000
    assert result["threshold"][0] == 10_000
    assert result["cycle_collected"] is True
