"""HubSpot's batch endpoints, as pure data: the bodies of ``batch/update`` and
``batch/create`` and what their replies say about each input (HubSpot API reference,
"Update a batch of records" and "Create a batch of calls": at most 100 inputs; ``200``/
``201`` when every input succeeded, ``207`` with ``errors`` when some failed; each input's
``objectWriteTraceId`` comes back on its result, so replies are matched by it, not by
order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import CrmError, CrmUnavailableError
from ...http import error_for_status, safe_text
from ...models import FieldValue
from .wire import TEXTS, blamed_field, properties_body

__all__ = ["BATCH_LIMIT", "BatchInput", "batch_body", "batch_outcomes", "update_input"]

BATCH_LIMIT = 100  # inputs per batch request

# a batch error's category as the HTTP status a lone request would have answered
_CATEGORY_STATUS = {"OBJECT_NOT_FOUND": 404, "RATE_LIMITS": 429}


@dataclass(frozen=True)
class BatchInput:
    """One input of a batch request; ``trace`` (its ``objectWriteTraceId``) matches the
    reply to it, ``record_id`` is the record an update names (errors may name only that)."""

    trace: str
    body: dict[str, Any]
    record_id: str = ""


def update_input(trace: str, record_id: str, fields: Mapping[str, FieldValue]) -> BatchInput:
    body = {"id": record_id, **properties_body(fields), "objectWriteTraceId": trace}
    return BatchInput(trace, body, record_id)


def batch_body(inputs: Sequence[BatchInput]) -> dict[str, Any]:
    return {"inputs": [item.body for item in inputs]}


def _item_error(error: Mapping[str, Any]) -> CrmError:
    category = str(error.get("category") or "")
    message = str(error.get("message") or category or "error")
    found = error_for_status(
        TEXTS,
        _CATEGORY_STATUS.get(category, 400),
        message=safe_text(message),
        code=category,
        field=blamed_field(error),
    )
    return found or CrmUnavailableError("HubSpot answered a batch input with an error")


def batch_outcomes(
    reply: Any, inputs: Sequence[BatchInput]
) -> dict[str, Mapping[str, Any] | CrmError]:
    """Each input's result (by trace) or its error. An error names its input by
    ``objectWriteTraceId``, or by the record ids in ``context.ids``; an input the reply
    neither answers nor blames is ``CrmUnavailableError``: whether it was written is
    unknown, so the job is retried (and looks its activity up first)."""
    reply = reply if isinstance(reply, Mapping) else {}
    by_trace = {
        str(result.get("objectWriteTraceId")): result
        for result in reply.get("results") or []
        if isinstance(result, Mapping)
    }
    by_record = {item.record_id: item.trace for item in inputs if item.record_id}
    blamed: dict[str, CrmError] = {}
    for error in reply.get("errors") or []:
        if not isinstance(error, Mapping):
            continue
        context = error.get("context")
        context = context if isinstance(context, Mapping) else {}
        traces = [str(error["objectWriteTraceId"])] if error.get("objectWriteTraceId") else []
        traces += [by_record[str(i)] for i in context.get("ids") or [] if str(i) in by_record]
        for trace in traces:
            blamed.setdefault(trace, _item_error(error))
    outcomes: dict[str, Mapping[str, Any] | CrmError] = {}
    for item in inputs:
        outcomes[item.trace] = (
            by_trace.get(item.trace)
            or blamed.get(item.trace)
            or CrmUnavailableError("HubSpot's batch reply did not answer one of its inputs")
        )
    return outcomes
