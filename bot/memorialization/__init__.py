"""Memorialization: the durable writer that records each interaction in the CRM.

``triggers`` decides when, ``values`` and ``timeline`` what (pure functions), ``outbox``
queues the jobs in the service's database, ``leases`` hands them to workers and
``job_admin`` lets admins list and retry them; ``worker`` writes them through the CRM
adapters (``job_writer``) with retries, rate limits and leases. ``hook`` queues jobs from
the interactions service, ``direct`` serves the DataMemorialization workflow, and ``api``
and ``cli`` (imported on their own) are the admins' HTTP and command-line views.
"""

from __future__ import annotations

from .hook import MemorializationHook, acw_announced, snapshot_from_interaction
from .job_admin import failed_for_interaction, list_jobs, retry_job
from .outbox import enqueue
from .snapshot import InteractionSnapshot, TargetRecord, source_values
from .timeline import build_activity
from .triggers import excluded_sources, memorialization_due
from .values import MappedFields, cut_text, format_value, map_fields
from .worker import AdapterProvider, MemorializationWorker, WorkerOptions

__all__ = [
    "InteractionSnapshot",
    "TargetRecord",
    "source_values",
    "memorialization_due",
    "excluded_sources",
    "map_fields",
    "MappedFields",
    "format_value",
    "cut_text",
    "build_activity",
    "enqueue",
    "list_jobs",
    "retry_job",
    "failed_for_interaction",
    "MemorializationWorker",
    "WorkerOptions",
    "AdapterProvider",
    "MemorializationHook",
    "snapshot_from_interaction",
    "acw_announced",
]
