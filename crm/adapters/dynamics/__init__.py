"""The Microsoft Dynamics 365 (Dataverse) adapter.

``adapter``: the ``CrmAdapter``, registered as ``"dynamics"``, over ``timeline`` (a job's
write and the timeline activities), over ``metadata`` (the organization's tables and columns),
over ``connection``: the API session (auth, transport, errors). ``query``: pure query
builders; ``settings``: the settings model the configuration API validates with; ``wire``:
the wire format (pure); ``batch``: the ``$batch`` body and its reply's parts (pure).
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
