"""Maps an integration type (``"salesforce"``, ...) to the factory that builds its adapter.

Adapter modules register themselves on import; ``create_adapter`` imports the module for a
type on first use, so a deployment only loads the CRMs it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .errors import ConfigError
from .protocol import CrmAdapter

__all__ = [
    "INTEGRATION_TYPES",
    "AdapterContext",
    "AdapterFactory",
    "register",
    "create_adapter",
]

# integration type -> module that implements it
INTEGRATION_TYPES: dict[str, str] = {
    "demo": "crm.demo",
    "salesforce": "crm.adapters.salesforce",
    "dynamics": "crm.adapters.dynamics",
    "hubspot": "crm.adapters.hubspot",
    "servicenow": "crm.adapters.servicenow",
    "zendesk": "crm.adapters.zendesk",
    "kustomer": "crm.adapters.kustomer",
    "oracle": "crm.adapters.oracle",
}


@dataclass
class AdapterContext:
    """Everything an adapter factory gets. ``secrets`` are already resolved plain values
    (never log them); ``settings`` are the configuration's non-secret settings."""

    configuration_id: str
    type: str
    label: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, str]
    http: httpx.AsyncClient
    default_phone_region: str = "DE"
    data_dir: Path = Path("data")
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. demo CRM database URL


AdapterFactory = Callable[[AdapterContext], CrmAdapter]

_FACTORIES: dict[str, AdapterFactory] = {}


def register(integration_type: str) -> Callable[[AdapterFactory], AdapterFactory]:
    """Decorator for an adapter module's factory function."""

    def decorate(factory: AdapterFactory) -> AdapterFactory:
        _FACTORIES[integration_type] = factory
        return factory

    return decorate


def create_adapter(context: AdapterContext) -> CrmAdapter:
    module = INTEGRATION_TYPES.get(context.type)
    if module is None:
        raise ConfigError(f"Unknown integration type {context.type!r}", field="type")
    if context.type not in _FACTORIES:
        importlib.import_module(module)
    return _FACTORIES[context.type](context)
