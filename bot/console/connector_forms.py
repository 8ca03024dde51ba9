"""Pure: a platform connector's console forms. The settings form is generated from the
platform's settings model (``bot.connectors.models.SETTINGS_MODELS``), as a CRM type's is;
the agent table is edited as rows (``agent_id`` / ``agent_upn``, repeated in order;
``op=add`` appends an empty row, ``op=remove:<i>`` drops the i-th); and the inbound URLs
an admin pastes on the platform's side.

Row errors are keyed ``agents.<i>.id`` / ``agents.<i>.upn`` (the row's inputs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping
from pydantic import ValidationError

from ..connectors.models import SETTINGS_MODELS, Connector, required_secrets, secret_names
from ..connectors.store import ENDPOINTS, agent_problem
from .forms import (
    FormField,
    errors_of_validation,
    model_fields,
    secrets_from_form,
    values_from_form,
)

__all__ = [
    "AgentRow",
    "InboundUrl",
    "agent_errors",
    "agent_rows",
    "agent_table",
    "connector_fields",
    "connector_settings",
    "inbound_urls",
    "row_of_error",
]


@dataclass(frozen=True)
class AgentRow:
    agent_id: str
    upn: str


@dataclass(frozen=True)
class InboundUrl:
    label: str  # a message key
    url: str


def connector_fields(platform: str, current: Mapping[str, Any]) -> list[FormField]:
    return model_fields(SETTINGS_MODELS[platform], current)


def connector_settings(
    platform: str, form: Mapping[str, str], stored: Iterable[str] = ()
) -> tuple[dict[str, Any], dict[str, str | None], dict[str, str]]:
    """The settings and secrets filled in (``stored``: the names of the secrets already
    set), and every problem with them at once: each setting's (``settings.<name>``) and each
    required secret neither stored nor typed in (``secrets.<name>``, the store's rule)."""
    model = SETTINGS_MODELS[platform]
    settings = values_from_form(connector_fields(platform, {}), form)
    secrets = secrets_from_form(secret_names(platform), form)
    problems: dict[str, str] = {}
    try:
        parsed = model.model_validate(settings)
    except ValidationError as exc:
        problems = {f"settings.{k}": v for k, v in errors_of_validation(exc, model).items()}
        parsed = model.model_construct(
            **{k: v for k, v in settings.items() if k in model.model_fields}
        )
    present = (set(stored) | {n for n, v in secrets.items() if v}) - {
        n for n, v in secrets.items() if v is None
    }
    try:
        required = required_secrets(platform, parsed)
    except KeyError:  # an ``auth`` the model refuses: its own error names it
        required = set()
    for name in sorted(required - present):
        problems[f"secrets.{name}"] = "required for this connector"
    return settings, secrets, problems


def agent_rows(form: MultiMapping[Any]) -> list[AgentRow]:
    """The rows as posted (their order kept), after the row operation asked for."""
    ids = [str(v) for v in form.getall("agent_id", [])]
    upns = [str(v) for v in form.getall("agent_upn", [])]
    rows = [AgentRow(i.strip(), u.strip()) for i, u in zip(ids, upns, strict=False)]
    op = str(form.get("op", ""))
    if op.startswith("remove:") and op[7:].isdigit() and int(op[7:]) < len(rows):
        rows.pop(int(op[7:]))
    if op == "add":
        rows.append(AgentRow("", ""))
    return rows


def agent_errors(rows: Sequence[AgentRow]) -> dict[str, str]:
    """Every problem of the rows, at its input: the store's rule per row, and an agent id
    listed twice (an empty row is ignored)."""
    errors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        if not row.agent_id and not row.upn:
            continue
        if not row.agent_id:
            errors[f"agents.{index}.id"] = agent_problem("", row.upn) or ""
            continue
        if row.agent_id in seen:
            errors[f"agents.{index}.id"] = f"listed twice (row {seen[row.agent_id] + 1})"
            continue
        seen[row.agent_id] = index
        if problem := agent_problem(row.agent_id, row.upn):
            errors[f"agents.{index}.upn"] = problem
    return errors


def agent_table(rows: Sequence[AgentRow]) -> dict[str, str]:
    return {row.agent_id: row.upn for row in rows if row.agent_id}


def row_of_error(field: str, rows: Sequence[AgentRow]) -> str:
    """The store's ``agents.<agent id>`` as the row's input (else ``_form``)."""
    key = field.removeprefix("agents.")
    for index, row in enumerate(rows):
        if row.agent_id == key:
            return f"agents.{index}.upn"
    return "_form"


def inbound_urls(
    platform: str, base: str, connector: Connector | None, default_config: str | None = None
) -> list[InboundUrl]:
    """What the admin pastes on the platform's side (none for Genesys Cloud: the service
    subscribes to the platform). CXone's path names the CRM configuration: the connector's,
    else the default one (``default_config``)."""
    base = base.rstrip("/")
    settings = connector.settings if connector else {}
    if platform == "twilio":
        return [
            InboundUrl("url_twilio", settings.get("callback_url") or base + ENDPOINTS[platform])
        ]
    if platform == "amazon-connect":
        urls = [InboundUrl("url_connect_events", base + ENDPOINTS[platform])]
        if settings.get("auth") == "oauth":
            token = base + "/api/v1/connectors/amazon-connect/oauth/token"
            urls.append(InboundUrl("url_connect_oauth", token))
        return urls
    if platform == "nice-cxone":
        config_id = (connector.configuration_id if connector else None) or default_config
        path = ENDPOINTS[platform].replace("{configurationId}", config_id or "{configurationId}")
        return [InboundUrl("url_cxone", base + path)]
    return []
