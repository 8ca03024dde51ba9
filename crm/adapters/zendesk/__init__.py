"""The Zendesk adapter.

``adapter``: the ``CrmAdapter``, registered as ``"zendesk"``; ``query``: pure query builders;
``settings``: the settings model the configuration API validates with; ``connection``:
the API session (auth, transport, errors); ``timeline``: a record's update and its timeline
activities; ``wire``: the wire format (pure).
"""

from .adapter import ZendeskAdapter, create_zendesk_adapter
from .settings import ZendeskSettings
from .wire import error_for_response

__all__ = ["ZendeskAdapter", "create_zendesk_adapter", "error_for_response", "ZendeskSettings"]
