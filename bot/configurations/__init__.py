"""The integration model's store: CRM configurations (:mod:`.store`), their mappings and
workflows (:mod:`.children`) and the kinds of those (:mod:`.kinds`). The admin API and
``customer-card config ...`` both go through it, so every way in validates the same."""

from .children import ChildStore
from .kinds import CHILD_KINDS, ChildKind, ChildName, workflow_adapter
from .store import ConfigurationStore

__all__ = [
    "CHILD_KINDS",
    "ChildKind",
    "ChildName",
    "ChildStore",
    "ConfigurationStore",
    "workflow_adapter",
]
