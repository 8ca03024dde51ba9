"""Sample data of the demo CRM, as plain records (no I/O).

Each entry is ``(record type, key, fields)``; a field value ``"@key"`` refers to the id of
an earlier entry, resolved while seeding. Phone numbers are stored as people type them.
docs/demo-crm.md lists which numbers and emails find one, several or no records; keep the
two in step:

* ``+49 30 1234567`` (the README demo) finds exactly one contact, Anna Schmidt;
* ``+49 40 5550190`` finds Klaus and Petra Wagner, who share a landline (household);
* ``familie.wagner@example.net`` finds both Wagners by email;
* ``+49 221 5550815`` finds one lead, ``+49 30 5550100`` one account (a switchboard).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .sample_parties import SAMPLE_PARTIES
from .sample_work import SAMPLE_WORK
from .schema import SeedRecord

__all__ = ["SeedRecord", "SAMPLE_RECORDS", "PersonLike", "people_records"]


SAMPLE_RECORDS: list[SeedRecord] = [*SAMPLE_PARTIES, *SAMPLE_WORK]


class PersonLike(Protocol):
    """What ``people_records`` reads of a person (``tests.crm.dataset.Person`` fits)."""

    first_name: str
    last_name: str
    email: str
    phone: str
    mobile: str
    company: str


def people_records(people: Iterable[PersonLike]) -> list[SeedRecord]:
    """Seed records for arbitrary people: one account per distinct company, one contact each."""
    records: list[SeedRecord] = []
    accounts: dict[str, str] = {}
    for index, person in enumerate(people):
        account_key = ""
        if person.company:
            if person.company not in accounts:
                accounts[person.company] = f"account-{len(accounts)}"
                records.append(("account", accounts[person.company], {"name": person.company}))
            account_key = accounts[person.company]
        records.append(
            (
                "contact",
                f"person-{index}",
                {
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": person.email,
                    "phone": person.phone,
                    "mobile_phone": person.mobile or None,
                    "account_id": f"@{account_key}" if account_key else None,
                },
            )
        )
    return records
