"""A memorialization job's writes to one record, one request after another: for CRMs whose
API has no composite or batch request that takes both (and for the demo CRM).

The field values go first, then the activity; the activity's key is looked up first only
when an earlier attempt may have sent it (``RecordWrite.activity_may_exist``). A retry after
the values were written writes them again: the same values, so nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from .models import FieldValue, RecordWrite, TimelineActivity, TimelineRef

__all__ = ["AddActivity", "UpdateFields", "write_in_turn"]

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
