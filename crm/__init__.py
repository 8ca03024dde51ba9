"""The CRM side of the Customer Card: the adapter seam, the vendor adapters, the demo CRM
and the integration model an admin configures (docs/architecture.md, "crm/").

The seam is exported here; everything else is imported from its module.
"""

from .errors import AppError, CrmError
from .protocol import CrmAdapter
from .registry import AdapterContext, create_adapter

__all__ = ["AppError", "CrmError", "CrmAdapter", "AdapterContext", "create_adapter"]
