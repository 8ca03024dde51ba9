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

from ..models import FieldValue

__all__ = ["SeedRecord", "SAMPLE_RECORDS", "PersonLike", "people_records"]

SeedRecord = tuple[str, str, dict[str, FieldValue]]


def _acc(
    key: str, name: str, industry: str, city: str, number: str, phone: str = "", website: str = ""
) -> SeedRecord:
    return (
        "account",
        key,
        {
            "name": name,
            "industry": industry,
            "billing_city": city,
            "customer_number": number,
            "phone": phone,
            "website": website,
        },
    )


def _con(
    key: str,
    first: str,
    last: str,
    email: str,
    phone: str,
    account: str = "",
    mobile: str = "",
    title: str = "",
    city: str = "",
    language: str = "de",
) -> SeedRecord:
    return (
        "contact",
        key,
        {
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "mobile_phone": mobile,
            "title": title,
            "mailing_city": city,
            "preferred_language": language,
            "account_id": f"@{account}" if account else None,
        },
    )


def _case(
    key: str,
    subject: str,
    contact: str,
    account: str,
    status: str,
    priority: str,
    origin: str,
    description: str,
) -> SeedRecord:
    return (
        "case",
        key,
        {
            "subject": subject,
            "contact_id": f"@{contact}",
            "account_id": f"@{account}" if account else None,
            "status": status,
            "priority": priority,
            "origin": origin,
            "description": description,
        },
    )


def _task(
    key: str,
    subject: str,
    related_type: str,
    related: str,
    status: str,
    due: str,
    description: str,
    task_type: str = "Call",
) -> SeedRecord:
    return (
        "task",
        key,
        {
            "subject": subject,
            "related_type": related_type,
            "related_id": f"@{related}",
            "status": status,
            "due_date": due,
            "description": description,
            "task_type": task_type,
        },
    )


SAMPLE_RECORDS: list[SeedRecord] = [
    _acc(
        "schmidt",
        "Schmidt Logistik GmbH",
        "Logistics",
        "Berlin",
        "K-10023",
        "+49 30 5550100",
        "https://schmidt-logistik.example",
    ),
    _acc("weber", "Weber & Söhne KG", "Retail", "Berlin", "K-10057", "030 / 555 0200"),
    _acc(
        "obrien",
        "O'Brien Consulting LLC",
        "Consulting",
        "Boston",
        "K-20011",
        "+1 617-555-0100",
        "https://obrien-consulting.example",
    ),
    _acc("wagner", "Familie Wagner", "Private", "Hamburg", "P-30410"),
    _acc("nordlicht", "Nordlicht Energie AG", "Energy", "Hamburg", "K-10112", "+49 (40) 555-0300"),
    _acc("klinikum", "Klinikum Süd gGmbH", "Healthcare", "München", "K-10200", "089 555 0400"),
    _con(
        "anna",
        "Anna",
        "Schmidt",
        "anna.schmidt@schmidt-logistik.example",
        "+49 30 1234567",
        "schmidt",
        mobile="0171 2345678",
        title="Leiterin Disposition",
        city="Berlin",
    ),
    _con(
        "berger",
        "Markus",
        "Berger",
        "m.berger@schmidt-logistik.example",
        "(030) 1234-568",
        "schmidt",
        title="Einkauf",
        city="Berlin",
    ),
    _con(
        "jonas",
        "Jonas",
        "Weber",
        "jonas.weber@weber-soehne.example",
        "(030) 98765-43",
        "weber",
        title="Geschäftsführer",
        city="Berlin",
    ),
    _con(
        "sabine",
        "Sabine",
        "Weber",
        "sabine.weber@weber-soehne.example",
        "030 9876 544",
        "weber",
        title="Buchhaltung",
        city="Berlin",
    ),
    _con(
        "becker",
        "Sophie",
        "Becker",
        "s.becker@weber-soehne.example",
        "",
        "weber",
        mobile="0160 5550177",
        title="Filialleitung",
        city="Potsdam",
    ),
    _con(
        "maria",
        "Maria",
        "O'Brien",
        "maria.obrien@obrien-consulting.example",
        "+1 (555) 010-2233",
        "obrien",
        title="Managing Partner",
        city="Boston",
        language="en",
    ),
    _con(
        "miller",
        "James",
        "Miller",
        "james.miller@obrien-consulting.example",
        "+1 617 555 0143",
        "obrien",
        title="Analyst",
        city="Boston",
        language="en",
    ),
    # one household, one landline written two ways, one shared email address
    _con(
        "klaus",
        "Klaus",
        "Wagner",
        "familie.wagner@example.net",
        "040 / 555 0190",
        "wagner",
        mobile="0151 5550191",
        city="Hamburg",
    ),
    _con(
        "petra",
        "Petra",
        "Wagner",
        "familie.wagner@example.net",
        "+49 40 5550190",
        "wagner",
        city="Hamburg",
    ),
    _con(
        "lukas",
        "Lukas",
        "Wagner",
        "lukas.wagner@example.net",
        "",
        "wagner",
        mobile="0152 / 555 0199",
        city="Hamburg",
    ),
    _con(
        "hansen",
        "Ingrid",
        "Hansen",
        "ingrid.hansen@nordlicht.example",
        "+49 40 555 0311",
        "nordlicht",
        title="Leitstelle",
        city="Hamburg",
    ),
    _con(
        "yilmaz",
        "Mehmet",
        "Yilmaz",
        "mehmet.yilmaz@nordlicht.example",
        "0049 40 5550312",
        "nordlicht",
        title="Technischer Einkauf",
        city="Hamburg",
    ),
    _con(
        "krueger",
        "Eva",
        "Krüger",
        "eva.krueger@klinikum-sued.example",
        "089/555-0401",
        "klinikum",
        title="Dr. med., Chefärztin",
        city="München",
    ),
    _con(
        "huber",
        "Stefan",
        "Huber",
        "stefan.huber@klinikum-sued.example",
        "+49 (0)89 555 0402",
        "klinikum",
        title="Medizintechnik",
        city="München",
    ),
    _con("rahman", "Fatima", "Rahman", "fatima.rahman@example.org", "0176 55501234", city="Köln"),
    _con(
        "martin",
        "Chloé",
        "Martin",
        "chloe.martin@example.fr",
        "+33 1 45 55 01 23",
        city="Paris",
        language="en",
    ),
    (
        "lead",
        "klein",
        {
            "first_name": "Tobias",
            "last_name": "Klein",
            "company": "Klein Bäckerei",
            "phone": "+49 221 555 0815",
            "email": "tobias@klein-baeckerei.example",
            "status": "Contacted",
            "lead_source": "Phone Inquiry",
            "description": "Interessiert an Lieferung für drei Filialen.",
        },
    ),
    (
        "lead",
        "schulz",
        {
            "first_name": "Laura",
            "last_name": "Schulz",
            "company": "Schulz Architekten",
            "phone": "069 5550901",
            "email": "laura@schulz-architekten.example",
            "lead_source": "Web",
        },
    ),
    (
        "lead",
        "wright",
        {
            "first_name": "Daniel",
            "last_name": "Wright",
            "company": "Wright Media Ltd",
            "phone": "+44 20 7946 0018",
            "email": "d.wright@wright-media.example",
            "lead_source": "Trade Show",
        },
    ),
    _case(
        "c-late",
        "Lieferung verspätet – Sendung 4711",
        "anna",
        "schmidt",
        "Working",
        "High",
        "Phone",
        "Die Sendung 4711 sollte am Montag ankommen und ist noch nicht da.",
    ),
    _case(
        "c-invoice",
        "Rechnung März doppelt gebucht",
        "anna",
        "schmidt",
        "Closed",
        "Medium",
        "Email",
        "Gutschrift erstellt und versendet.",
    ),
    _case(
        "c-pallet",
        "Retoure Palettenregal",
        "berger",
        "schmidt",
        "New",
        "Low",
        "Web",
        "Regal beschädigt geliefert, Abholung gewünscht.",
    ),
    _case(
        "c-return",
        "Rücksendung Kassensystem",
        "jonas",
        "weber",
        "New",
        "Medium",
        "Phone",
        "Kassensystem in Filiale Mitte defekt.",
    ),
    _case(
        "c-onboard",
        "Onboarding call follow-up",
        "maria",
        "obrien",
        "Working",
        "Medium",
        "Phone",
        "Send the onboarding deck and schedule the second workshop.",
    ),
    _case(
        "c-meter",
        "Zählerstand übermitteln",
        "klaus",
        "wagner",
        "New",
        "Low",
        "Web",
        "Kunde möchte den Zählerstand telefonisch durchgeben.",
    ),
    _case(
        "c-tariff",
        "Tarifwechsel auf Premium",
        "petra",
        "wagner",
        "Escalated",
        "High",
        "Phone",
        "Wechsel zum 1. des Folgemonats zugesagt, Bestätigung fehlt.",
    ),
    _case(
        "c-outage",
        "Störung Umspannwerk Nord",
        "hansen",
        "nordlicht",
        "Working",
        "High",
        "Phone",
        "Teilausfall seit 06:40 Uhr, Techniker unterwegs.",
    ),
    _case(
        "c-service",
        "Wartungsvertrag Ultraschallgeräte",
        "krueger",
        "klinikum",
        "Closed",
        "Medium",
        "Email",
        "Vertrag verlängert bis Ende nächsten Jahres.",
    ),
    _task(
        "t-callback",
        "Rückruf wegen Sendung 4711",
        "case",
        "c-late",
        "Not Started",
        "2026-12-01",
        "Kundin bis 16 Uhr zurückrufen.",
    ),
    _task(
        "t-quote",
        "Angebot Regalsystem senden",
        "contact",
        "berger",
        "In Progress",
        "2026-12-03",
        "Angebot für 40 Regale.",
        task_type="Email",
    ),
    _task(
        "t-tariff",
        "Tarifbestätigung nachreichen",
        "case",
        "c-tariff",
        "Not Started",
        "2026-11-30",
        "Bestätigung per Post und E-Mail.",
    ),
    _task(
        "t-intro",
        "Intro call",
        "lead",
        "klein",
        "Completed",
        "2026-11-20",
        "Spoke about delivery windows.",
    ),
    _task(
        "t-workshop",
        "Schedule workshop 2",
        "contact",
        "maria",
        "Not Started",
        "2026-12-05",
        "Two dates in the week after next.",
        task_type="Email",
    ),
    (
        "custom_subscription",
        "s-schmidt",
        {
            "name": "Premium Support 24/7",
            "plan": "Premium",
            "monthly_fee": 490,
            "start_date": "2025-01-01",
            "status": "Active",
            "auto_renew": True,
            "account_id": "@schmidt",
            "contact_id": "@anna",
        },
    ),
    (
        "custom_subscription",
        "s-wagner",
        {
            "name": "Strom Plus Haushalt",
            "plan": "Plus",
            "monthly_fee": 89.9,
            "start_date": "2024-06-01",
            "status": "Active",
            "auto_renew": True,
            "account_id": "@wagner",
            "contact_id": "@petra",
        },
    ),
    (
        "custom_subscription",
        "s-nordlicht",
        {
            "name": "Netzmonitoring Basic",
            "plan": "Basic",
            "monthly_fee": 150,
            "start_date": "2023-03-15",
            "status": "Paused",
            "auto_renew": False,
            "account_id": "@nordlicht",
        },
    ),
]


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
