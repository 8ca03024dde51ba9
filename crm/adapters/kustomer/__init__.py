"""The Kustomer adapter.

``adapter``: the ``CrmAdapter``, registered as ``"kustomer"``; ``query``: pure query builders;
``settings``: the settings model the configuration API validates with; ``connection``:
the API session (auth, transport, errors); ``timeline``: a record's update and its timeline
activities; ``wire``: the wire format (pure).
"""

from .adapter import KustomerAdapter, create_kustomer_adapter
from .settings import KustomerSettings
from .wire import error_for_response

__all__ = ["KustomerAdapter", "create_kustomer_adapter", "error_for_response", "KustomerSettings"]
