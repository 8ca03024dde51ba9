"""German messages (formal "Sie"), mirroring the keys of ``en.MESSAGES``."""

MESSAGES: dict[str, str] = {
    # The Customer Card
    "card_fallback": "Customer Card: {customer}",
    "card_crm": "CRM: {crm}",
    "channel_voice": "Anruf",
    "channel_digital": "Digitaler Kontakt",
    "state_started": "Aktiv",
    "state_updated": "Aktiv",
    "state_ended": "Beendet",
    "state_acw_completed": "Nachbearbeitung abgeschlossen",
    "state_transferred": "Weitergeleitet",
    "state_unassigned": "Nicht zugewiesen",
    "state_dismissed": "Verworfen",
    "section_current": "Aktuelle Interaktion",
    "section_related": "Verwandte Interaktionen",
    "section_find": "Datensatz suchen oder anlegen",
    "current_empty": "Noch kein Datensatz an diese Interaktion angeheftet.",
    "related_empty": "Keine früheren Interaktionen oder verwandten Datensätze.",
    "history_heading": "Frühere Interaktionen",
    "related_records_heading": "Verwandte Datensätze",
    "history_unknown_time": "Zeit unbekannt",
    "origin_match": "Treffer",
    "origin_created": "Angelegt",
    "origin_pinned": "Angeheftet",
    "origin_related": "Verwandt",
    "origin_search": "Suchergebnis",
    "action_open": "Im CRM öffnen",
    "action_edit": "Bearbeiten",
    "action_unpin": "Lösen",
    "action_pin": "Anheften",
    "action_search": "Suchen",
    "action_create": "Anlegen…",
    "action_refresh": "Aktualisieren",
    "action_more": "Mehr anzeigen",
    "more_hidden": "{count} weitere nicht angezeigt.",
    "search_label": "Im CRM suchen",
    "search_placeholder": "Name, Telefonnummer, E-Mail oder ID",
    "create_label": "Neuer Datensatz vom Typ",
    "read_only": "Diese Karte ist schreibgeschützt.",
    "card_closed": "Diese Interaktion ist abgeschlossen. Die Karte ist schreibgeschützt.",
    "empty_value": "—",
    # Start-up look-up and search outcomes
    "no_matches": (
        "Kein passender CRM-Datensatz gefunden. Suchen Sie einen oder legen Sie einen neuen an."
    ),
    "several_matches": "Mehrere CRM-Datensätze passen. Heften Sie unten den richtigen an.",
    "one_match": "Ein passender CRM-Datensatz wurde gefunden und angeheftet.",
    "one_match_unpinned": (
        "Ein passender CRM-Datensatz wurde gefunden; er steht unter Verwandte Interaktionen."
    ),
    "search_no_results": "Die Suche hat keine Datensätze gefunden.",
    "record_created": "Datensatz angelegt und angeheftet.",
    "record_updated": "Datensatz gespeichert.",
    "memorialization_failed": "Diese Interaktion konnte nicht im CRM protokolliert werden.",
    # Who may act
    "not_assigned": (
        "Nur der dieser Interaktion zugewiesene Agent kann mit dieser Karte arbeiten."
    ),
    "transferred": (
        "Diese Interaktion wurde an einen anderen Agenten weitergeleitet. "
        "Die Karte ist schreibgeschützt."
    ),
    "not_installed": "Der Agent hat die Customer-Card-App in Teams noch nicht installiert.",
    # Forms and dialogs
    "form_title_create": "Neu: {type}",
    "form_title_edit": "{type} bearbeiten",
    "form_submit_create": "Anlegen",
    "form_submit_edit": "Speichern",
    "form_cancel": "Abbrechen",
    "form_choose": "Auswählen…",
    "field_required": "Dieses Feld ist erforderlich.",
    "field_too_long": "Höchstens {max} Zeichen.",
    # Text commands
    "help_title": "Befehle der Customer Card",
    "help_intro": (
        "Die Customer Card zeigt die CRM-Datensätze des Kunden, während Sie eine Interaktion "
        "bearbeiten."
    ),
    "help_help": "Diese Hilfe anzeigen.",
    "help_whoami": "Ihre IDs für Interaktionsereignisse anzeigen.",
    "help_search_usage": "search <Suchtext>",
    "help_search": "CRM-Datensätze nach Name, Telefonnummer, E-Mail oder ID suchen.",
    "help_simulate_call_usage": "simulate call <Nummer>",
    "help_simulate_call": "Einen simulierten Anruf von dieser Nummer gegen das Demo-CRM starten.",
    "help_simulate_chat_usage": "simulate chat <E-Mail>",
    "help_simulate_chat": "Einen simulierten Chat von dieser Adresse gegen das Demo-CRM starten.",
    "help_simulate_end": "Ihre simulierte Interaktion beenden.",
    "help_dev_note": "Simulationsbefehle funktionieren nur im Entwicklungsmodus.",
    "simulate_dev_only": "Simulationsbefehle gibt es nur im Entwicklungsmodus.",
    "unknown_command": (
        "Diesen Befehl kenne ich nicht. Geben Sie help ein, um alle Befehle zu sehen."
    ),
    "whoami_title": "Ihre IDs",
    "whoami_hint": "Verwenden Sie diese Werte im Feld agent der Interaktionsereignisse.",
    "whoami_teams_user_id": "Teams-Benutzer-ID",
    "whoami_aad_object_id": "Entra-(AAD-)Objekt-ID",
    "whoami_tenant_id": "Mandanten-ID",
    "whoami_name": "Name",
    "whoami_email": "E-Mail",
    "whoami_unknown": "(unbekannt)",
    # Errors, keyed by crm.errors code
    "error_generic": "Entschuldigung, da ist etwas schiefgelaufen. Bitte versuchen Sie es erneut.",
    "error": "Etwas ist schiefgelaufen.",
    "invalid_input": "Diese Eingabe ist ungültig.",
    "not_found": "Das wurde nicht gefunden.",
    "conflict": "Das ist im aktuellen Zustand der Interaktion nicht möglich.",
    "not_allowed": "Dazu sind Sie nicht berechtigt.",
    "invalid_configuration": (
        "Die CRM-Konfiguration ist ungültig. Bitte wenden Sie sich an Ihre Administration."
    ),
    "crm_error": "Die Anfrage an das CRM ist fehlgeschlagen.",
    "crm_auth": (
        "Das CRM hat unsere Anmeldedaten abgelehnt. Bitte wenden Sie sich an Ihre Administration."
    ),
    "crm_not_found": "Der Datensatz existiert im CRM nicht mehr.",
    "crm_rejected": "Das CRM hat die Änderung abgelehnt.",
    "crm_rate_limited": "Das CRM ist ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
    "crm_unavailable": "Das CRM ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.",
    "unknown_configuration": "Unbekannte CRM-Konfiguration.",
    "configuration_inactive": "Diese CRM-Konfiguration ist deaktiviert.",
    # Customer Card, compact layout (issue 18)
    "action_details": "Details",
    "value_yes": "Ja",
    "value_no": "Nein",
}
