"""The people every CRM simulator is seeded with, so one contract suite runs on every CRM.

Phone numbers are stored as humans type them: the adapters must find them from an ANI.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    phone: str  # as stored in the CRM (free text)
    mobile: str = ""
    company: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


PEOPLE: list[Person] = [
    Person(
        "Anna",
        "Schmidt",
        "anna.schmidt@example.de",
        "+49 30 1234567",
        "0171 2345678",
        "Schmidt Logistik GmbH",
    ),
    Person("Jonas", "Weber", "jonas.weber@example.de", "(030) 98765-43", "", "Weber & Söhne"),
    Person(
        "Maria",
        "O'Brien",
        "maria.obrien@example.com",
        "+1 (555) 010-2233",
        "",
        "O'Brien Consulting",
    ),
    # two people in one household share a landline: a phone search finds both
    Person("Lena", "Fischer", "lena.fischer@example.de", "089 / 555 1212", "", "Fischer Haus"),
    Person("Paul", "Fischer", "paul.fischer@example.de", "+49 89 5551212", "", "Fischer Haus"),
]

# ANIs as a contact-center platform delivers them, with who they must find.
ANI_ONE_MATCH = "+49301234567"  # Anna Schmidt
ANI_TWO_MATCHES = "+49895551212"  # Lena and Paul Fischer
ANI_NO_MATCH = "+44 20 7946 0000"

# Hostile search input: must find nothing (and not error) in every CRM.
HOSTILE_INPUTS = [
    "' OR 1=1 --",
    "a' OR Name LIKE '%",
    "x\\' OR '1'='1",
    "*",
    "%",
    "a^ORname!=x",
    "} RETURNING User(Id) FIND {",
    '" or ""="',
    "name eq 'x' or 1 eq 1",
    "email:* OR type:user",
]
