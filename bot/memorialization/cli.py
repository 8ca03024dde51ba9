"""``customer-card memorialization list|retry ID``: the admin's view of CRM writes.

The service's worker picks a retried job up at its next poll; no restart needed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from crm.errors import AppError

from ..settings import Settings
from ..storage.db import create_engine, session_factory, upgrade_database
from ..storage.job_tables import JOB_STATUSES
from . import job_admin
from .api import job_out

__all__ = ["add_commands", "run_command"]


def add_commands(subparsers: Any) -> None:
    """Add ``memorialization`` to the ``customer-card`` command's subparsers; the parsed
    arguments carry ``handler``: call ``args.handler(args, settings)`` for the exit code."""
    command = subparsers.add_parser("memorialization", help="list and retry CRM writes")
    actions = command.add_subparsers(dest="memorialization_action", required=True)
    listing = actions.add_parser("list", help="list jobs, newest first")
    listing.add_argument("--status", choices=JOB_STATUSES, default=None)
    listing.add_argument("--interaction", default=None, help="only this interaction id")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    retry = actions.add_parser("retry", help="run a failed job again now")
    retry.add_argument("id", type=int)
    command.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_run(args, settings))
    except AppError as exc:
        print(exc.detail or exc.code, file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    await upgrade_database(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    try:
        if args.memorialization_action == "retry":
            async with sessions() as session, session.begin():
                row = await job_admin.retry_job(session, args.id)
            print(f"Job {row.id} queued for retry.")
            return 0
        async with sessions() as session:
            rows = await job_admin.list_jobs(
                session, status=args.status, interaction_id=args.interaction, limit=args.limit
            )
        for row in rows:
            out = job_out(row)
            if args.json:
                print(json.dumps(out.model_dump(mode="json", by_alias=True)))
            else:
                print(_line(out.model_dump()))
        if not rows and not args.json:
            print("No memorialization jobs.")
        return 0
    finally:
        await engine.dispose()


def _line(job: dict[str, Any]) -> str:
    error = f"  {job['last_error_code']}: {job['last_error']}" if job["last_error"] else ""
    return (
        f"{job['id']:>6}  {job['status']:<8} {job['attempts']:>2}x  "
        f"{job['interaction_id']}  {job['record_type']}/{job['record_id']}{error}"
    )
