"""``customer-card config apply|export|test`` against the demo CRM: the difference printed,
idempotent applies, dry runs, export round trips, errors naming the field."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config_cli import add_commands, run
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "config.yaml"
LITERAL = "lit-" + "9f8e7d6c5b4a"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=str(tmp_path / "data"),  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}",
        demo_crm_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
    )


def cli(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="customer-card")
    add_commands(parser.add_subparsers(dest="command", required=True))
    code = run(parser.parse_args(list(argv)), settings)
    out, err = capsys.readouterr()
    return code, out, err


def test_apply_prints_the_difference_and_is_idempotent(settings, capsys):
    code, out, err = cli(settings, capsys, "config", "apply", str(EXAMPLE), "--dry-run")
    assert code == 0, err
    assert '+ configuration demo (demo) "Demo CRM"' in out
    assert '+ configuration hubspot-eu (hubspot) "HubSpot EU"' in out
    assert out.rstrip().endswith("(dry run: nothing was changed)")
    code, out, err = cli(settings, capsys, "config", "export")
    assert yaml.safe_load(out.split("\n", 1)[1]) == {"configurations": []}

    code, out, err = cli(settings, capsys, "config", "apply", str(EXAMPLE))
    assert code == 0, err
    assert '+ demo: memorialization mapping "Call data"' in out
    assert '+ demo: dynamic data mapping "Card fields"' in out
    assert '~ demo: workflow "Search by phone number": recordTypes' in out
    assert '~ demo: workflow "Data memorialization": mappingId' in out
    assert '+ demo: workflow "Search by customer number"' in out
    assert "change(s) applied." in out

    code, out, err = cli(settings, capsys, "config", "apply", str(EXAMPLE))
    assert (code, out.strip()) == (0, "No changes.")

    code, out, err = cli(settings, capsys, "config", "test", "demo")
    assert code == 0 and out.startswith("OK: configuration demo (demo) reached the CRM")


def test_changes_and_prune(settings, capsys, tmp_path):
    cli(settings, capsys, "config", "apply", str(EXAMPLE))
    document = yaml.safe_load(EXAMPLE.read_text())
    demo = document["configurations"][0]
    demo["description"] = "Changed"
    demo["dynamicDataMappings"][0]["recordTypes"][0]["fields"].remove("mailing_city")
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump({"configurations": [demo]}))
    code, out, err = cli(settings, capsys, "config", "apply", str(changed))
    assert "~ configuration demo: description" in out
    assert '~ demo: dynamic data mapping "Card fields": recordTypes' in out
    assert "hubspot-eu" not in out, "without --prune nothing is deleted"

    code, out, err = cli(settings, capsys, "config", "apply", str(changed), "--prune", "--dry-run")
    assert '- configuration hubspot-eu (hubspot) "HubSpot EU"' in out
    assert '- demo: workflow "Timeline"' in out
    code, out, err = cli(settings, capsys, "config", "apply", str(changed), "--prune")
    code, out, err = cli(settings, capsys, "config", "export")
    exported = yaml.safe_load(out)
    assert [c["id"] for c in exported["configurations"]] == ["demo"]
    assert len(exported["configurations"][0]["workflows"]) == 4


def test_literal_secrets_stay_idempotent_and_are_never_exported(settings, capsys, tmp_path):
    file = tmp_path / "kustomer.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "configurations": [
                    {
                        "id": "kus",
                        "name": "Kustomer",
                        "type": "kustomer",
                        "settings": {"org": "acme"},
                        "secrets": {"api_key": LITERAL},
                    }
                ]
            }
        )
    )
    code, out, err = cli(settings, capsys, "config", "apply", str(file))
    assert code == 0, err
    code, out, err = cli(settings, capsys, "config", "apply", str(file))
    assert out.strip() == "No changes."
    file.write_text(file.read_text().replace(LITERAL, LITERAL + "x"))
    code, out, err = cli(settings, capsys, "config", "apply", str(file))
    assert "~ configuration kus: secrets.api_key" in out and LITERAL not in out

    code, out, err = cli(settings, capsys, "config", "export")
    assert LITERAL not in out and "literal secrets are not exported" in out
    exported = tmp_path / "exported.yaml"
    exported.write_text(out)
    code, out, err = cli(settings, capsys, "config", "apply", str(exported))
    assert out.strip() == "No changes.", "an export applied back changes nothing"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("configurations: [{name: X, type: pipedrive}]", "type: unknown integration type"),
        (
            "configurations: [{name: X, type: demo, colour: red}]",
            "configurations[0].colour: Extra inputs are not permitted",
        ),
        (
            "configurations:\n- name: X\n  type: demo\n  dynamicDataMappings:\n  - name: m\n"
            "    recordTypes: [{recordType: contact, fields: [first_name, last_name, email, phone, "
            "title, department]}]",
            "6 text fields chosen for contact",
        ),
        (
            "configurations:\n- name: X\n  type: demo\n  memorializationMappings:\n  - name: m\n"
            "    recordTypes: [{recordType: contact, fields: [{crmField: title, source: "
            "{channel: script_variable, field: AccountNo}}]}]",
            "must be lowercase",
        ),
        ("workflows: []", "the file holds 'configurations' and 'connectors'"),
        ("configurations: [", "not valid YAML"),
    ],
)
def test_invalid_files_name_the_problem(settings, capsys, tmp_path, document, message):
    file = tmp_path / "bad.yaml"
    file.write_text(document)
    code, out, err = cli(settings, capsys, "config", "apply", str(file))
    assert code == 1
    assert err.startswith("error: ") and message in err


@pytest.mark.slow
def test_command_runs_as_a_process(tmp_path):
    env = {
        **os.environ,
        "CUSTOMER_CARD_DATA_DIR": str(tmp_path / "data"),
        "CUSTOMER_CARD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}",
        "CUSTOMER_CARD_DEMO_CRM_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
    }
    command = [sys.executable, "-m", "bot.config_cli", "config", "apply", str(EXAMPLE)]
    first = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert second.stdout.strip() == "No changes."
    assert (tmp_path / "data" / "secret.key").exists()


def test_a_file_that_fails_half_way_changes_nothing(settings, capsys, tmp_path):
    cli(settings, capsys, "config", "apply", str(EXAMPLE))
    code, before, err = cli(settings, capsys, "config", "export")
    document = yaml.safe_load(EXAMPLE.read_text())
    demo = document["configurations"][0]
    demo["description"] = "Changed"  # applied first: a change to an existing configuration
    new = {"id": "added", "name": "Added", "type": "demo"}  # then a new one
    broken = {  # then one the CRM check refuses (too many text fields on the card)
        "name": "Broken",
        "type": "demo",
        "dynamicDataMappings": [
            {
                "name": "m",
                "recordTypes": [
                    {
                        "recordType": "contact",
                        "fields": [
                            "first_name",
                            "last_name",
                            "email",
                            "phone",
                            "title",
                            "department",
                        ],
                    }
                ],
            }
        ],
    }
    file = tmp_path / "half.yaml"
    file.write_text(yaml.safe_dump({"configurations": [demo, new, broken]}))
    code, out, err = cli(settings, capsys, "config", "apply", str(file), "--prune")
    assert code == 1 and "6 text fields chosen for contact" in err
    code, after, err = cli(settings, capsys, "config", "export")
    assert yaml.safe_load(after) == yaml.safe_load(before)


def test_a_nul_character_in_a_file_is_refused_naming_the_field(settings, capsys, tmp_path):
    file = tmp_path / "nul.yaml"
    file.write_text('configurations:\n- name: "Demo\\0"\n  type: demo\n')
    code, out, err = cli(settings, capsys, "config", "apply", str(file))
    assert code == 1 and "configurations[0].name" in err, err
