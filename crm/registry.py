"""Maps an integration type (``"salesforce"``, ...) to its settings model and the factory
that builds its adapter.

Adapter packages register themselves on import; ``create_adapter`` imports the package for a
type on first use, so a deployment only loads the CRMs it uses. The factory gets the
configuration's settings validated by the type's model (the same model the configuration
API validates with), never the raw mapping.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .errors import ConfigError
from .protocol import CrmAdapter
from .settings import TypeSettings, parse_settings

__all__ = [
    "INTEGRATION_TYPES",
    "AdapterContext",
    "AdapterFactory",
    "register",
    "settings_model",
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
    """Everything an adapter factory gets besides its validated settings model. ``secrets``
    are already resolved plain values (never log them); ``settings`` are the configuration's
    non-secret settings as stored (``create_adapter`` validates them with the type's
    model)."""

    configuration_id: str
    type: str
    label: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, str]
    http: httpx.AsyncClient
    default_phone_region: str = "DE"
    data_dir: Path = Path("data")
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. demo CRM database URL


S = TypeVar("S", bound=TypeSettings)
AdapterFactory = Callable[[AdapterContext, Any], CrmAdapter]

_FACTORIES: dict[str, tuple[type[TypeSettings], AdapterFactory]] = {}


def register(
    integration_type: str, settings: type[S]
) -> Callable[
    [Callable[[AdapterContext, S], CrmAdapter]], Callable[[AdapterContext, S], CrmAdapter]
]:
    """Decorator for an adapter package's factory: ``settings`` is the type's settings
    model, the factory gets the context and the validated model."""

    def decorate(
        factory: Callable[[AdapterContext, S], CrmAdapter],
    ) -> Callable[[AdapterContext, S], CrmAdapter]:
        _FACTORIES[integration_type] = (settings, factory)
        return factory

    return decorate


def _registered(integration_type: str) -> tuple[type[TypeSettings], AdapterFactory]:
    module = INTEGRATION_TYPES.get(integration_type)
    if module is None:
        raise ConfigError(f"Unknown integration type {integration_type!r}", field="type")
    if integration_type not in _FACTORIES:
        importlib.import_module(module)
    return _FACTORIES[integration_type]


def settings_model(integration_type: str) -> type[TypeSettings]:
    """The settings model an integration type registered; imports its package on first use."""
    return _registered(integration_type)[0]


def create_adapter(context: AdapterContext) -> CrmAdapter:
    """The adapter of ``context.type``, built from its settings validated by the type's
    model (a ``ConfigError`` naming ``settings.<field>`` when they do not pass)."""
    model, factory = _registered(context.type)
    return factory(context, parse_settings(model, context.type, context.settings))
