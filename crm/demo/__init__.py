"""The built-in demo CRM: a real ``CrmAdapter`` over its own tables (``adapter``), with its
schema, sample data, statements and value rules in modules of their own."""

from .adapter import DemoCrm, create
from .database import DEFAULT_BASE_URL, EngineFactory
from .settings import DemoSettings

__all__ = ["DemoSettings", "DemoCrm", "DEFAULT_BASE_URL", "EngineFactory", "create"]
