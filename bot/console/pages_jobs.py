"""Console pages of CRM writes (memorialization jobs: by status and interaction, the last
error, retry) and of the audit trail. Retrying goes through
:func:`bot.memorialization.jobs.retry`, as the API's does."""

from __future__ import annotations

from aiohttp import web

from ..audit import list_events
from ..memorialization.job_admin import job_out, list_jobs, retry
from ..services import SERVICES
from ..storage.job_tables import JOB_STATUSES
from .auth import PREFIX, ConsoleSession, console_page
from .render import page

__all__ = ["routes"]

_PAGE = 50


def _before(request: web.Request) -> int | None:
    value = request.query.get("beforeId", "")
    return int(value) if value.isdigit() else None


@console_page
async def list_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    status = request.query.get("status", "")
    status = status if status in JOB_STATUSES else ""
    interaction = request.query.get("interactionId", "").strip()
    async with request.app[SERVICES].sessions() as db:
        rows = await list_jobs(
            db,
            status=status or None,
            interaction_id=interaction or None,
            limit=_PAGE + 1,
            before_id=_before(request),
        )
    jobs = [job_out(row) for row in rows[:_PAGE]]
    values = {
        "session": session,
        "jobs": jobs,
        "statuses": JOB_STATUSES,
        "status": status,
        "interaction": interaction,
        "next_before": jobs[-1].id if len(rows) > _PAGE else None,
    }
    return page(request, "memorializations.html", values)


@console_page
async def retry_job(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    services = request.app[SERVICES]
    job_id = request.match_info["job"]
    if not job_id.isdigit():
        raise web.HTTPNotFound()
    await retry(services.sessions, services.memorialization, int(job_id))
    raise web.HTTPSeeOther(f"{PREFIX}/memorializations?done=retried")


@console_page
async def audit_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    async with request.app[SERVICES].sessions() as db:
        events = await list_events(db, limit=_PAGE + 1, before_id=_before(request))
    values = {
        "session": session,
        "audit": events[:_PAGE],
        "next_before": events[_PAGE - 1].id if len(events) > _PAGE else None,
    }
    return page(request, "audit.html", values)


def routes() -> list[web.RouteDef]:
    return [
        web.get(PREFIX + "/memorializations", list_page),
        web.post(PREFIX + "/memorializations/{job}/retry", retry_job),
        web.get(PREFIX + "/audit", audit_page),
    ]
