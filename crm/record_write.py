"""A memorialization job's writes to one record, one request after another: for CRMs whose
API has no composite or batch request that takes both (and for the demo CRM).

The field values go first, then the activity; the activity's key is looked up first only
when an earlier attempt may have sent it (``RecordWrite.activity_may_exist``). A retry after
the values were written writes them again: the same values, so nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from .errors import CrmNotFoundError, CrmRejectedError
from .models import FieldValue, RecordWrite, TimelineActivity, TimelineRef
from .protocol import BatchWriting, WriteOutcome

__all__ = ["AddActivity", "UpdateFields", "batch_limit", "write_each", "write_in_turn"]

# (record type, record id, values): changes the record; what it answers is not needed
UpdateFields = Callable[[str, str, Mapping[str, FieldValue]], Awaitable[object]]
# (activity, look_up): links the activity; looks its key up first when look_up is true
AddActivity = Callable[[TimelineActivity, bool], Awaitable[TimelineRef]]


async def write_in_turn(
    write: RecordWrite, update: UpdateFields, add_activity: AddActivity
) -> TimelineRef | None:
    if write.fields:
        await update(write.record_type, write.record_id, write.fields)
    if write.activity is None:
        return None
    return await add_activity(write.activity, write.activity_may_exist)


def batch_limit(adapter: object) -> int:
    """How many writes ``adapter.write_records`` takes at once (1: it has no such request)."""
    return max(1, adapter.write_batch_limit) if isinstance(adapter, BatchWriting) else 1


async def write_each(
    write_record: Callable[[RecordWrite], Awaitable[TimelineRef | None]],
    writes: Sequence[RecordWrite],
) -> list[WriteOutcome]:
    """``write_records`` one write at a time: each write's outcome, its ``CrmError`` kept.
    For a CRM whose batch request failed as a whole for one bad write (HubSpot refuses a
    batch with one invalid input): the others still go through, each with its own answer.
    What is not about one write (throttled, unavailable, credentials) stops the lot."""
    outcomes: list[WriteOutcome] = []
    for write in writes:
        try:
            outcomes.append(await write_record(write))
        except (CrmRejectedError, CrmNotFoundError) as exc:
            outcomes.append(exc)
    return outcomes
