"""Platform connectors: each contact-center platform's own events and calls, as the
platform sends them, turned into interaction events (one way in: :class:`ConnectorInbox`).

Pure translations, one module per platform (:mod:`.twilio`, :mod:`.amazon_connect`,
:mod:`.cxone`), apart from the I/O (:mod:`.connect_api`); connections are kept by
:class:`ConnectorStore` (the service layer the admin API, ``config apply`` and the console
call)."""

from .inbox import ConnectorInbox, Received
from .models import PLATFORMS, Connector, ConnectorInput, PlatformEvent
from .store import ActiveConnector, ConnectorStore

__all__ = [
    "PLATFORMS",
    "ActiveConnector",
    "Connector",
    "ConnectorInbox",
    "ConnectorInput",
    "ConnectorStore",
    "PlatformEvent",
    "Received",
]
