"""German console text (formal "Sie"), mirroring the keys of ``en.MESSAGES``."""

MESSAGES: dict[str, str] = {
    "app_name": "Customer Card – Verwaltung",
    "skip": "Zum Inhalt springen",
    "nav_configurations": "CRM-Konfigurationen",
    "nav_memorializations": "CRM-Schreibvorgänge",
    "nav_audit": "Änderungsprotokoll",
    "sign_in": "Anmelden",
    "sign_in_microsoft": "Mit Microsoft anmelden",
    "oidc_failed": "Die Microsoft-Anmeldung wurde nicht abgeschlossen; bitte erneut versuchen.",
    "oidc_not_admin": "Ihr Microsoft-Konto ist kein Admin der Verwaltung (Gruppe oder App-Rolle).",
    "or": "oder",
    "sign_out": "Abmelden",
    "sign_in_intro": "Melden Sie sich mit einem Admin-Schlüssel an (CUSTOMER_CARD_ADMIN_API_KEYS).",
    "admin_key": "Admin-Schlüssel",
    "bad_key": "Das ist kein Admin-Schlüssel.",
    "no_admin_keys": "Kein Admin-Schlüssel eingerichtet: CUSTOMER_CARD_ADMIN_API_KEYS setzen "
    "und neu starten.",
    "signed_in_as": "Angemeldet als {actor}",
    "session_expired": "Bitte melden Sie sich (erneut) an.",
    "csrf_failed": "Das Formular war veraltet oder kam von anderswo; bitte erneut versuchen.",
    "configurations": "CRM-Konfigurationen",
    "new_configuration": "Neue Konfiguration",
    "create": "Anlegen",
    "save": "Speichern",
    "cancel": "Abbrechen",
    "edit": "Bearbeiten",
    "delete": "Löschen",
    "activate": "Aktivieren",
    "deactivate": "Deaktivieren",
    "test_connection": "Verbindung testen",
    "test_ok": "Verbindung funktioniert: {count} Datensatztypen lesbar.",
    "test_warnings": "Aber nicht alles ist wie konfiguriert (Details auf Englisch):",
    "test_failed": "Verbindung fehlgeschlagen: {message}",
    "name": "Name",
    "description": "Beschreibung",
    "type": "CRM-Typ",
    "status": "Status",
    "status_active": "aktiv",
    "status_inactive": "inaktiv",
    "is_default": "Standardkonfiguration",
    "default": "Standard",
    "actions": "Aktionen",
    "settings": "Einstellungen",
    "secrets": "Geheimnisse",
    "secret_set": "gesetzt ({kind})",
    "secret_unset": "nicht gesetzt",
    "secret_hint": "Nur schreibbar: leer lassen zum Behalten; ein Wert, env:NAME oder file:/pfad.",
    "secret_remove": "Entfernen",
    "required": "Pflichtfeld",
    "choose_type": "CRM-Typ wählen",
    "next": "Weiter",
    "list_hint": "Durch Kommas getrennt",
    "json_hint": "JSON",
    "saved": "Gespeichert.",
    "deleted": "Gelöscht.",
    "confirm_delete": "Endgültig löschen",
    "fix_errors": "Bitte korrigieren Sie die markierten Felder.",
    "back": "Zurück",
    "memorialization_mappings": "Zuordnungen für CRM-Einträge",
    "dynamic_mappings": "Dynamische Datenzuordnungen (Kartenfelder)",
    "workflows": "Workflows",
    "startup_steps": "Startschritte",
    "new_mapping": "Neue Zuordnung",
    "record_type": "Datensatztyp",
    "record_types": "Datensatztypen",
    "choose_record_type": "Datensatztyp wählen",
    "show_fields": "Felder anzeigen",
    "crm_field": "CRM-Feld",
    "field_type": "Typ",
    "max_length": "Max. Länge",
    "source": "Quelle",
    "source_none": "(nicht zugeordnet)",
    "channel_voice": "Sprache",
    "channel_digital": "Digital",
    "channel_script_variable": "Skriptvariable",
    "script_variable": "Name der Skriptvariable",
    "card_fields": "Felder auf der Karte",
    "limit_note": "Höchstens {text} Textfelder und {other} Felder anderer Typen.",
    "limit_count": "{text} von {max_text} Text, {other} von {max_other} andere gewählt",
    "limit_reached": "Höchstzahl für diese Art von Feld erreicht.",
    "preview": "Karte als Vorschau",
    "preview_heading": "Kartenvorschau",
    "preview_note": "Die Customer Card dieser Zuordnung, für einen Beispieldatensatz des CRM.",
    "preview_needs_js": "Die Vorschau zeichnet der Adaptive-Cards-Renderer (JavaScript).",
    "no_sample": "Kein Datensatz dieses Typs vorhanden; Beispielwerte werden gezeigt.",
    "add_record_type": "Datensatztyp hinzufügen",
    "remove_record_type": "Datensatztyp entfernen",
    "workflow": "Workflow",
    "workflow_action": "Aktion",
    "kind": "Art",
    "definition": "Definition (JSON)",
    "try_it": "Ausprobieren",
    "try_payload": "Beispiel-Payload (JSON: workflowInput; Interaktionsdaten unter "
    "workflowInput.interactionData)",
    "run": "Ausführen",
    "result": "Normalisiertes Ergebnis",
    "run_failed": "Der Workflow ist fehlgeschlagen: {message}",
    "new_workflow": "Neuer Workflow",
    "startup_hint": "Geordnete Schritte als JSON; leer: der eingebaute Standard (search, dann "
    "pin_single).",
    "startup_default": "Der eingebaute Standard läuft.",
    "memorializations": "CRM-Schreibvorgänge (Memorialisierung)",
    "filter": "Filtern",
    "all": "alle",
    "interaction": "Interaktion",
    "record": "Datensatz",
    "attempts": "Versuche",
    "last_error": "Letzter Fehler",
    "retry": "Erneut versuchen",
    "retried": "Erneut eingereiht.",
    "none_yet": "Noch nichts.",
    "when": "Wann",
    "who": "Wer",
    "what": "Was",
    "changes": "Geändert",
    "older": "Ältere",
    "error_title": "Etwas stimmt nicht",
    "not_found": "Nicht gefunden.",
    "nav_connectors": "Plattform-Connectoren",
    "connectors": "Plattform-Connectoren",
    "connectors_intro": (
        "Ein Connector je Contact-Center-Plattform: Einstellungen, Geheimnisse und Agententabelle."
    ),
    "platform": "Plattform",
    "crm_configuration": "CRM-Konfiguration",
    "default_configuration": "(die Standardkonfiguration)",
    "not_set_up": "nicht eingerichtet",
    "agent_count": "{count} Agenten eingetragen",
    "enable": "Einschalten",
    "disable": "Ausschalten",
    "inbound": "Eingangs-URL",
    "inbound_hint_twilio": (
        "Als Event Callback URL des TaskRouter-Workspaces eintragen (sie wird genau so "
        "signiert, wie dort eingetragen; callback_url ersetzt sie)."
    ),
    "inbound_hint_amazon-connect": (
        "Als Endpunkt der EventBridge-API-Destination eintragen (HTTP-Methode POST); "
        "deren Verbindung meldet sich mit den Geheimnissen unten an."
    ),
    "inbound_hint_nice-cxone": (
        "In der REST-Aktion des Studio-Skripts mit dem Bearer-Token (api_key) aufrufen; "
        "{workflowId} durch die Id des Workflows ersetzen."
    ),
    "inbound_hint_genesys-cloud": (
        "Nichts einzutragen: der Dienst abonniert die Notification API von Genesys Cloud "
        "per WebSocket mit dem OAuth-Client unten."
    ),
    "url_twilio": "Event Callback URL",
    "url_connect_events": "Endpunkt der API-Destination",
    "url_connect_oauth": "OAuth-Autorisierungsendpunkt (Verbindung mit OAuth)",
    "url_cxone": "URL der REST-Aktion",
    "secret_hint_connect": (
        "Welche gelten, hängt von auth ab: api_key; username und password (basic); "
        "client_id und client_secret (oauth); die aws_-Schlüssel lesen die "
        "Amazon-Connect-API."
    ),
    "agent_table": "Agententabelle",
    "agent_table_hint_twilio": (
        "Worker-SID -> Teams-E-Mail/UPN des Agenten (oder AAD-Objekt-Id); sonst sein "
        "E-Mail-Attribut."
    ),
    "agent_table_hint_amazon-connect": (
        "Benutzer-Id (letzter Teil des Agenten-ARN) -> Teams-E-Mail/UPN (oder "
        "AAD-Objekt-Id); sonst die E-Mail aus DescribeUser."
    ),
    "agent_table_hint_nice-cxone": (
        "Agenten-Id -> Teams-E-Mail/UPN (oder AAD-Objekt-Id); sonst agentEmail aus dem Skript."
    ),
    "agent_table_hint_genesys-cloud": (
        "Benutzer-Id -> Teams-E-Mail/UPN (oder AAD-Objekt-Id); sonst die E-Mail des "
        "Benutzers in Genesys Cloud."
    ),
    "agent_id": "Agenten-Id der Plattform",
    "agent_upn": "Teams-Benutzer (E-Mail/UPN oder AAD-Objekt-Id)",
    "add_row": "Zeile hinzufügen",
    "remove_row": "Zeile entfernen",
    "save_agents": "Agententabelle speichern",
    "rows_changed": (
        "Noch nicht gespeichert: speichern Sie die Tabelle, um die Änderung zu behalten."
    ),
    "startup_intro": "Was beim Start einer Interaktion läuft, in dieser Reihenfolge.",
    "steps_changed": (
        "Noch nicht gespeichert: speichern Sie die Schritte, um die Änderung zu behalten."
    ),
    "step_n": "Schritt {n}",
    "step_search": "den Anrufer suchen (nach Telefon, E-Mail oder automatisch)",
    "step_pin_single": "genau ein Treffer: in die aktuelle Interaktion übernehmen",
    "step_create_if_none": (
        "nichts gefunden: einen Datensatz aus den Interaktionsdaten anlegen und übernehmen"
    ),
    "step_related": "zugehörige Datensätze der übernommenen hinzufügen",
    "step_cache": "die Ergebnisse bei der Interaktion behalten (Weiterleitungen nutzen sie)",
    "pairs_hint": "Eine Zeile je Feld: CRM-Feld = Vorlage, z. B. phone = {ANI}",
    "move_up": "Nach oben",
    "move_down": "Nach unten",
    "remove_step": "Entfernen",
    "no_steps": (
        "Keine Schritte: so gespeichert läuft die eingebaute Vorgabe (search, dann pin_single)."
    ),
    "add_step": "Schritt hinzufügen",
    "use_default": "Eingebaute Vorgabe verwenden",
    "advanced_json": "Erweitert: als JSON bearbeiten",
    "save_json": "JSON speichern",
}
