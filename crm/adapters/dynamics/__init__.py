"""The Microsoft Dynamics 365 (Dataverse) adapter.

``adapter``: the ``CrmAdapter``, registered as ``"dynamics"``; ``query``: pure query builders;
``settings``: the settings model the configuration API validates with; ``connection``:
the API session (auth, transport, errors); ``wire``: the wire format (pure).
"""

from .adapter import DynamicsAdapter
from .settings import DynamicsSettings
from .wire import Table, activity_payload, key_marker, translate_error

__all__ = [
    "DynamicsAdapter",
    "Table",
    "activity_payload",
    "key_marker",
    "translate_error",
    "DynamicsSettings",
]
