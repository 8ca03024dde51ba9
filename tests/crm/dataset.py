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

ANI_SECOND_ENTRY = "+491712345678"  # Anna Schmidt's mobile, her second phone entry

# The forms numbers are stored in (issue #14), each with its own number: (stored, E.164).
STORED_FORMS: list[tuple[str, str]] = [
    ("+491605550101", "+491605550101"),  # E.164
    ("+49 160 5550102", "+491605550102"),  # international
    ("0160 5550103", "+491605550103"),  # national
    ("01605550104", "+491605550104"),  # national digits
    ("160 5550105", "+491605550105"),  # national without trunk prefix
    ("+49 (0)160 5550106", "+491605550106"),  # trunk prefix in parentheses
    ("0160-5550107", "+491605550107"),
    ("(0160) 5550108", "+491605550108"),
    ("0160/5550109", "+491605550109"),
    ("0049 160 5550110", "+491605550110"),  # international dialling prefix
    ("(030) 5550111", "+49305550111"),
    ("030-5550112", "+49305550112"),
]

# Callers from other countries whose national digits equal stored German numbers: they
# must find nothing (Anna, Jonas, the Fischers, and the stored forms above).
FOREIGN_CALLERS = [
    "+43 30 1234567",
    "+43 30 9876543",
    "+43 89 5551212",
    "+41 171 2345678",
    "+43 160 5550103",
    "+43 160 5550108",
    "+31 160 5550105",
    "+43 30 5550111",
]


def national_form(e164: str) -> str:
    """A German E.164 number as dialled nationally ("+491605550103" -> "01605550103")."""
    assert e164.startswith("+49")
    return "0" + e164[3:]


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
