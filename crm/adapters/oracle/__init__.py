"""The Oracle B2C Service adapter.

``adapter``: the ``CrmAdapter``, registered as ``"oracle"``; ``query``: pure query builders;
``settings``: the settings model the configuration API validates with; ``connection``:
the API session (auth, transport, errors); ``timeline``: a record's update and its timeline
activities; ``wire``: the wire format (pure).
"""

from .adapter import OracleAdapter, create_oracle_adapter
from .settings import OracleSettings
from .wire import error_for_response, throttle_wait

__all__ = [
    "OracleAdapter",
    "create_oracle_adapter",
    "error_for_response",
    "throttle_wait",
    "OracleSettings",
]
