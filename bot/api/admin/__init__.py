"""The admin API under ``/api/v1`` (admin keys only): configurations, memorialization
mappings, dynamic data mappings, workflows, start-up steps, and CRM metadata for pickers.

Lists have the commercial anchor's shapes (``{"configurations": [...], "totalRecords"}``,
``{"dataMappings": [...]}``, ``{"workflows": [{"workflowId", "workflowName",
"workflowAction", ...}]}``, ``{"entities": [{"name", "label"}]}``). Secrets are write-only:
responses show ``{"set": true, "kind": "literal"|"env"|"file", "reference"?}``.

The handlers: :mod:`.configurations` (configurations, start-up steps, CRM metadata) and
:mod:`.children` (mappings and workflows); :mod:`.common` holds the answer models.
"""

from __future__ import annotations

from aiohttp import web

from ..openapi import add_api_routes
from .children import child_handlers
from .common import configuration_store
from .configurations import configuration_handlers

__all__ = ["add_routes", "configuration_store"]


def add_routes(app: web.Application) -> None:
    """Add the admin endpoints to ``app`` and its OpenAPI registry."""
    add_api_routes(
        app,
        *configuration_handlers(),
        *child_handlers("memorialization"),
        *child_handlers("dynamic"),
        *child_handlers("workflow"),
    )
