"""The garbage collector, set up for a long-running service.

CPython's cyclic collector runs a young-generation pass every 700 new container objects
and, every so often, a full pass over every object the process holds. At start-up the
service holds about 180,000 of them (the SDK, SQLAlchemy, pydantic models, the card
schema), and a full pass over them paused the event loop for 100-150 ms on the benchmark
machine, several times a minute under load: every card and pin waiting at that moment
waited that long too.

Once the service is up, ``settle`` collects what start-up left behind and freezes the rest
(``gc.freeze``: full passes skip it from then on), and lets the young generation grow to
10,000 objects before a pass: about 3 ms per pass instead of many short ones. Cyclic
garbage is still collected; only objects alive at start-up are never scanned again.
Measured with ``bench/interaction_cost.py``: collector time per interaction 2.8 -> 1.4
ms, the longest pause 150 -> 20 ms.

Only ``serve`` calls it: in tests many apps come and go in one process, and freezing each
one's start-up objects would keep them for the rest of the run.
"""

from __future__ import annotations

import gc
import logging

__all__ = ["YOUNG_THRESHOLD", "settle"]

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 10_000  # new container objects between young-generation passes
_OLDER_THRESHOLDS = (10, 10)  # CPython's defaults for the two older generations


async def settle(_app: object = None) -> None:
    """Collect start-up garbage, freeze what is left, raise the young threshold (an
    aiohttp ``on_startup`` handler: it runs after the app's own start-up)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *_OLDER_THRESHOLDS)
    log.debug("Heap settled: %d objects frozen", gc.get_freeze_count())
