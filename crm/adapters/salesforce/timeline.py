"""What Salesforce is written: a record's values and its Task, one job at a time
(``write_record``) or many jobs at once (``write_records``), each in one Composite request.

REST API Developer Guide, "Send Multiple Requests Using Composite" (``POST
/services/data/vXX.X/composite``): up to 25 subrequests that count as ONE API call;
``allOrNone`` false lets each subrequest succeed or fail alone, and each comes back under its
``referenceId`` ("Composite Response Body"). A job is a ``PATCH`` of the record's values and
a ``POST`` of its Task (only the ``POST`` when it has no values), so 12 jobs fit one request.
A retried job's Task key is looked up first by one SOQL query for every retried job
("Query", ``WHERE <key field> IN (...)``), and only what is still needed is sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from ...errors import CrmError, CrmNotFoundError, CrmRejectedError, CrmUnavailableError
from ...models import RecordWrite, TimelineActivity, TimelineRef
from ...protocol import WriteOutcome
from ...record_write import write_each
from .connection import SalesforceConnection
from .query import build_select, check_api_name, quote_soql_value
from .wire import (
    _RECORD_ID,
    COMPOSITE_LIMIT,
    VENDOR,
    SubRequest,
    _json,
    _timeline_key,
    composite_bodies,
    composite_outcomes,
    composite_request,
    task_payload,
)

__all__ = ["SalesforceTimeline"]

JOB_PARTS = 2  # a job's subrequests at most: its values and its Task
BATCH_JOBS = COMPOSITE_LIMIT // JOB_PARTS


@dataclass(frozen=True)
class _JobParts:
    """One job's subrequests in a batch's Composite request."""

    values: SubRequest | None
    task: SubRequest | None
    found: TimelineRef | None  # the Task an earlier attempt created


class SalesforceTimeline(SalesforceConnection):
    @staticmethod
    def _record_path(record_type: str, record_id: str) -> str:
        """``sobjects/{type}/{id}``, both checked first (a malformed id exists nowhere)."""
        check_api_name(record_type, what="record_type")
        if not _RECORD_ID.match(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        return f"sobjects/{record_type}/{record_id}"

    def _task(self, reference_id: str, activity: TimelineActivity) -> SubRequest:
        payload = task_payload(activity, self._settings.timeline_key_field)
        return SubRequest(reference_id, "POST", "sobjects/Task/", payload)

    # --- one job ------------------------------------------------------------------------

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """The values (``PATCH sobjects/{type}/{id}``) and the Task (``POST sobjects/Task``)
        in one Composite request; a lone part as a plain request. When an earlier attempt
        may have sent the Task, its key is looked up first (as ``add_timeline`` does) and
        only what is still needed is sent."""
        path = self._record_path(write.record_type, write.record_id)
        update = SubRequest("values", "PATCH", path, dict(write.fields)) if write.fields else None
        activity, found = write.activity, None
        if activity is not None:
            check_api_name(activity.record_type, what="record_type")
            if not write.activity_may_exist:  # nothing can have been sent: no look-up
                return await self._create_task(activity, update)
            async with self._timeline_lock:  # one check-then-create at a time per adapter
                found = (await self._find_tasks([activity.key])).get(activity.key)
                if found is None:
                    return await self._create_task(activity, update)
        if update is not None:  # no activity, or an earlier attempt created it
            await self._request(update.method, update.path, json=update.body)
        return found

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        check_api_name(activity.record_type, what="record_type")
        async with self._timeline_lock:  # one check-then-create at a time per adapter
            found = (await self._find_tasks([activity.key])).get(activity.key)
            return found or await self._create_task(activity)

    async def _find_tasks(self, keys: Sequence[str]) -> dict[str, TimelineRef]:
        """The Tasks earlier attempts created for any of ``keys`` (by key), one query."""
        if not keys:
            return {}
        key_field = self._settings.timeline_key_field
        stored = {_timeline_key(key): key for key in keys}
        quoted = [quote_soql_value(value) for value in stored]
        where = (
            f"{key_field} = {quoted[0]}"
            if len(quoted) == 1
            else f"{key_field} IN ({', '.join(quoted)})"
        )
        limit = 10 * len(stored)
        found: dict[str, TimelineRef] = {}
        select = build_select("Task", ["Id", key_field], where, limit=limit)
        for row in await self._query(select, limit):  # re-checked: a wrong reply drops nothing
            key = stored.get(str(row.get(key_field)))
            if key is not None and key not in found:
                found[key] = TimelineRef(id=str(row["Id"]), type="Task", created=False)
        return found

    async def _create_task(
        self, activity: TimelineActivity, update: SubRequest | None = None
    ) -> TimelineRef:
        """Creates the activity's Task; with ``update``, both in one Composite request
        (``allOrNone`` false: a refused Task leaves the values written, and the other way
        round). A failed part raises its error as a plain reply would."""
        task = self._task("task", activity)
        if update is None:
            body = _json(await self._request(task.method, task.path, json=task.body))
        else:
            parts = (update, task)
            request = composite_request(self._settings.version, parts)
            reply = _json(await self._request("POST", "composite", json=request))
            body = composite_bodies(reply, parts)[task.reference_id]
        return TimelineRef(id=str(body["id"]), type="Task", created=True)

    # --- many jobs ----------------------------------------------------------------------

    @property
    def write_batch_limit(self) -> int:
        return BATCH_JOBS

    async def write_records(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """Many jobs' writes: one query for the Task keys of retried jobs, then one Composite
        request for every job's values and Task (``BATCH_JOBS`` jobs a request). Each job's
        outcome comes from its own subresponses; a request refused as a whole raises."""
        if len(writes) < 2:
            return await write_each(self.write_record, writes)
        outcomes: list[WriteOutcome] = []
        for start in range(0, len(writes), BATCH_JOBS):
            outcomes += await self._write_batch(writes[start : start + BATCH_JOBS])
        return outcomes

    async def _write_batch(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        outcomes: dict[int, WriteOutcome] = {}
        paths: dict[int, str] = {}
        for index, write in enumerate(writes):
            try:
                paths[index] = self._record_path(write.record_type, write.record_id)
                if write.activity is not None:
                    check_api_name(write.activity.record_type, what="record_type")
            except (CrmNotFoundError, CrmRejectedError) as exc:
                outcomes[index] = exc
        retried = [
            w.activity.key
            for i, w in enumerate(writes)
            if i in paths and w.activity is not None and w.activity_may_exist
        ]
        lock = self._timeline_lock if retried else contextlib.nullcontext()
        async with lock:  # one check-then-create at a time per adapter
            found = await self._find_tasks(retried)
            jobs: dict[int, _JobParts] = {}
            for index, path in paths.items():
                write, activity = writes[index], writes[index].activity
                values = (
                    SubRequest(f"values{index}", "PATCH", path, dict(write.fields))
                    if write.fields
                    else None
                )
                ref = found.get(activity.key) if activity is not None else None
                task = (
                    self._task(f"task{index}", activity)
                    if activity is not None and ref is None
                    else None
                )
                jobs[index] = _JobParts(values, task, ref)
            outcomes.update(await self._send_jobs(jobs))
        return [outcomes[index] for index in range(len(writes))]

    async def _send_jobs(self, jobs: dict[int, _JobParts]) -> dict[int, WriteOutcome]:
        """Every job's parts in one Composite request; each job's outcome from its own
        subresponses (its first failed part, in request order, is its error)."""
        parts = [p for job in jobs.values() for p in (job.values, job.task) if p is not None]
        answers: dict[str, object] = {}
        if parts:
            records = [p.path for p in parts if p.method == "PATCH"]
            in_order = len(set(records)) < len(records)  # a record twice: the last job wins
            request = composite_request(self._settings.version, parts, in_order=in_order)
            reply = _json(await self._request("POST", "composite", json=request))
            answers = composite_outcomes(reply, parts)
        outcomes: dict[int, WriteOutcome] = {}
        for index, job in jobs.items():
            mine = [answers[p.reference_id] for p in (job.values, job.task) if p is not None]
            error = next((a for a in mine if isinstance(a, CrmError)), None)
            if error is not None:
                outcomes[index] = error
            elif job.task is not None:
                body = answers[job.task.reference_id]
                task_id = body.get("id") if isinstance(body, dict) else None
                outcomes[index] = (
                    TimelineRef(id=str(task_id), type="Task", created=True)
                    if task_id
                    else CrmUnavailableError(f"{VENDOR} created a Task without answering its id")
                )
            else:
                outcomes[index] = job.found
        return outcomes
