"""The worker paces each configuration to the quota its CRM advertises: the HubSpot
simulator enforces a rolling window (``X-HubSpot-RateLimit-Max`` per
``-Interval-Milliseconds``) and reports what is left on every reply, as HubSpot documents
(crm-apis.md, HubSpot "Rate-limit signalling"). Each job records its CRM calls."""

from __future__ import annotations

from dataclasses import replace
from math import isclose

import httpx

from bot.memorialization import MemorializationWorker
from crm.mappings import MemorializationMapping
from tests.crm.quota_window import RollingQuota
from tests.crm.sim_hubspot import start_adapter

from .conftest import make_snapshot
from .helpers import FAST, add_jobs, wait_settled

MAPPING = MemorializationMapping(
    name="hubspot",
    record_types=[
        {
            "recordType": "contacts",
            "fields": [
                {"crmField": "jobtitle", "source": {"channel": "voice", "field": "Skill Name"}}
            ],
        }
    ],
)
JOBS = 10


async def test_a_throttling_crm_is_paced_to_its_quota_not_hammered(aiohttp_server, sqlite_sessions):
    async with httpx.AsyncClient() as http:
        sim, adapter = await start_adapter(aiohttp_server, http)
        ids = [
            (await adapter.create("contacts", {"lastname": f"Quota {n}"})).id for n in range(JOBS)
        ]
        # far below the worker's own rate (1,000 calls/s, 50 at once, 16 jobs in flight)
        sim.quota = RollingQuota(limit=10, window=1.0)
        await add_jobs(
            sqlite_sessions,
            *(
                make_snapshot(f"int-{n}", targets=[("contacts", record_id)])
                for n, record_id in enumerate(ids)
            ),
            mapping=MAPPING,
        )

        async def provider(configuration_id):
            return adapter

        worker = MemorializationWorker(sqlite_sessions, provider, replace(FAST, max_attempts=20))
        await worker.start()
        try:
            rows = await wait_settled(sqlite_sessions, deadline_seconds=60)
        finally:
            await worker.stop()
            await adapter.aclose()

    assert [row.status for row in rows] == ["done"] * JOBS
    calls = [row.result["crmCalls"] for row in rows]
    # jobs waiting for the quota went together through HubSpot's batch endpoints, each
    # charged its share of a batch's requests
    assert max(sim.batch_sizes) > 1, sim.batch_sizes
    assert all(count > 0 for count in calls)
    # every reply (refusals included) was counted, and the CRM saw nothing else
    assert isclose(sum(calls), sim.quota.accepted + sim.quota.refused, abs_tol=0.001 * JOBS)
    # paced: a few refusals per job at most, while the first replies teach the quota and
    # how many requests a verb makes (4-8 seen on an idle machine, 16 on a loaded CI run,
    # whose stalled event loop sends in bursts); unpaced, over ten per job (132 seen)
    assert sim.quota.refused < 3 * JOBS, sim.quota.refused
    for record_id in ids:
        assert sim.objects["contacts"][record_id]["properties"]["jobtitle"] == "Billing"
