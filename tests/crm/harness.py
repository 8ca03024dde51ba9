"""What each CRM's test module gives the shared contract suite (``tests/crm/contract.py``).

A CRM's contract test module subclasses ``CrmContract`` and provides a ``harness`` fixture
that starts its simulator (seeded with ``tests.crm.dataset.PEOPLE``) and builds the real
adapter pointed at it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from crm.protocol import CrmAdapter


@dataclass
class Harness:
    adapter: CrmAdapter
    contact_type: str  # record type name of a person (e.g. "Contact", "contacts", "contact")
    # a standard type with a long-text field, for create/update/truncation checks
    case_type: str
    # fields to create a minimal valid record of each type (values are plain text)
    new_contact: dict[str, str]
    new_case: dict[str, str]
    # a text field of contact_type that update() may change
    updatable_contact_field: str
    # the simulator's raw view of a record (vendor JSON), for assertions
    stored: Callable[[str, str], Awaitable[dict[str, Any] | None]]
    # timeline activities the simulator holds for a record (vendor JSON)
    timeline_for: Callable[[str, str], Awaitable[list[dict[str, Any]]]]
    # phone fields of contact_type that create() writes: the main phone first, then another
    # phone entry of the same record (mobile, second number)
    phone_fields: tuple[str, str] = ("", "")
    # the vendor's documented bounds of a setting: name -> (a value the vendor accepts,
    # values it refuses); the settings model must refuse the latter naming the setting
    settings_bounds: dict[str, tuple[Any, list[Any]]] = field(default_factory=dict)
    # from now on the simulator answers the adapter's look-up of an earlier activity (by its
    # key) with activities that carry other keys: a wrong reply. None: the CRM has no such
    # reply to get wrong (the demo CRM reads its own database)
    misanswer_lookups: Callable[[], None] | None = None
    # requests a first attempt's ``write_record`` makes with field values and an activity,
    # metadata already read: (contact_type, case_type). None: the CRM makes no HTTP requests
    write_requests: tuple[int, int] | None = (2, 2)
    # a text field of case_type that write_record may change ("": the case write in the
    # request count carries the activity alone)
    updatable_case_field: str = ""
    # a well-formed record type this CRM (as simulated) does not have
    missing_type: str = "no_such_type_zz"
