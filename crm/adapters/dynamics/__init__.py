"""The Microsoft Dynamics 365 (Dataverse) adapter.

``adapter``: the ``CrmAdapter``, registered as ``"dynamics"``; ``query``: pure query builders.
"""

from .adapter import (
    DynamicsAdapter,
    DynamicsSettings,
    Table,
    activity_payload,
    key_marker,
    translate_error,
)

__all__ = [
    "DynamicsAdapter",
    "DynamicsSettings",
    "Table",
    "activity_payload",
    "key_marker",
    "translate_error",
]
