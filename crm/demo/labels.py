"""The demo CRM's labels in German, as a CRM with a German language pack names its types
and fields (the card and forms show them to agents whose Teams speaks German)."""

from __future__ import annotations

__all__ = ["GERMAN"]

GERMAN: dict[str, str] = {
    # record types
    "Account": "Firma",
    "Contact": "Kontakt",
    "Case": "Vorgang",
    "Lead": "Interessent",
    "Task": "Aufgabe",
    "Subscription": "Abonnement",
    # fields
    "Account Name": "Firmenname",
    "Phone": "Telefon",
    "Website": "Website",
    "Industry": "Branche",
    "Customer Number": "Kundennummer",
    "Billing City": "Rechnungsort",
    "Description": "Beschreibung",
    "First Name": "Vorname",
    "Last Name": "Nachname",
    "Email": "E-Mail",
    "Mobile": "Mobil",
    "Title": "Position",
    "Department": "Abteilung",
    "Mailing City": "Ort",
    "Preferred Language": "Bevorzugte Sprache",
    "Case Number": "Vorgangsnummer",
    "Subject": "Betreff",
    "Status": "Status",
    "Priority": "Priorität",
    "Origin": "Herkunft",
    "Internal Comments": "Interne Kommentare",
    "Company": "Unternehmen",
    "Lead Status": "Interessentenstatus",
    "Lead Source": "Interessentenquelle",
    "Comments": "Kommentare",
    "Due Date": "Fällig am",
    "Type": "Typ",
    "Call Direction": "Anrufrichtung",
    "Call Duration (s)": "Anrufdauer (s)",
    "Call Result": "Anrufergebnis",
    "Assigned To": "Zugewiesen an",
    "Related To Type": "Bezogen auf (Typ)",
    "Related To": "Bezogen auf",
    "Activity Key": "Aktivitätsschlüssel",
    "Subscription Name": "Abonnementname",
    "Plan": "Tarif",
    "Monthly Fee (EUR)": "Monatsgebühr (EUR)",
    "Start Date": "Beginn",
    "Auto Renew": "Automatische Verlängerung",
    "Notes": "Notizen",
}
