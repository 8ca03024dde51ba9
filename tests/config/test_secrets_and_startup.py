"""Secrets at rest (pure), and the interaction start-up runner against the demo CRM."""

from __future__ import annotations

import stat

import pytest

from bot.storage.db import create_demo_crm_engine
from crm.demo import DemoCrm
from crm.errors import ConfigError
from crm.interaction_data import InteractionData
from crm.secrets import (
    describe_secrets,
    load_secret_box,
    parse_secret_input,
    redact,
    resolve_secret,
    store_secret,
)
from crm.startup import (
    CacheStep,
    CreateIfNoneStep,
    PinSingleStep,
    RelatedStep,
    SearchStep,
    run_startup,
)

SECRET = "s3cr3t-value-123"


def test_literals_are_encrypted_and_references_kept(tmp_path, monkeypatch):
    box = load_secret_box("", tmp_path)
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    stored = store_secret(parse_secret_input("token", SECRET), box)
    assert stored.startswith("enc:") and SECRET not in stored
    assert resolve_secret("token", stored, load_secret_box("", tmp_path)) == SECRET
    assert store_secret(parse_secret_input("token", "env:CC_TOKEN"), box) == "env:CC_TOKEN"
    monkeypatch.setenv("CC_TOKEN", SECRET)
    assert resolve_secret("token", "env:CC_TOKEN", box) == SECRET
    assert describe_secrets({"token": stored, "other": "env:CC_TOKEN"})["token"].reference is None


def test_a_configured_key_and_rotation(tmp_path):
    old = load_secret_box("old passphrase", tmp_path)
    stored = old.seal(SECRET)
    rotated = load_secret_box("new passphrase,old passphrase", tmp_path)
    assert resolve_secret("t", stored, rotated) == SECRET
    with pytest.raises(ConfigError) as caught:
        resolve_secret("t", stored, load_secret_box("another", tmp_path))
    assert "cannot be decrypted" in caught.value.detail and SECRET not in str(caught.value)


def test_unresolvable_references_name_the_secret_not_a_value(tmp_path):
    box = load_secret_box("k", tmp_path)
    with pytest.raises(ConfigError) as caught:
        resolve_secret("api_key", "env:CC_SURELY_UNSET_VARIABLE", box)
    assert caught.value.field == "secrets.api_key"
    with pytest.raises(ConfigError) as caught:
        resolve_secret("api_key", f"file:{tmp_path / 'missing'}", box)
    assert "cannot be read" in caught.value.detail
    assert redact(f"bad token {SECRET}!", [SECRET]) == "bad token ***!"


@pytest.fixture
async def demo(tmp_path):  # type: ignore[no-untyped-def]
    crm = DemoCrm(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", open_engine=create_demo_crm_engine)
    yield crm
    await crm.aclose()


def voice(ani: str) -> InteractionData:
    return InteractionData(interaction_id="ix-1", channel="voice", data={"ANI": ani})


async def test_default_startup_pins_a_single_match(demo):
    result = await run_startup(None, demo, voice("+49 30 1234567"))
    assert result.outcome == "one" and [r.title for r in result.current] == ["Anna Schmidt"]
    result = await run_startup(None, demo, voice("+49 40 5550190"))
    assert result.outcome == "several" and not result.current
    assert sorted(r.title for r in result.related) == ["Klaus Wagner", "Petra Wagner"]
    digital = InteractionData(channel="digital", data={"From": "familie.wagner@example.net"})
    assert (await run_startup(None, demo, digital)).outcome == "several"


async def test_configured_startup_creates_when_nothing_matches(demo):
    steps = [
        SearchStep(by="phone"),
        PinSingleStep(),
        CreateIfNoneStep(
            record_type="contact",
            fields={"last_name": "Caller {ANI}", "phone": "{ANI}", "title": "{Customer Name}"},
        ),
        RelatedStep(),
        CacheStep(),
    ]
    result = await run_startup(steps, demo, voice("+49 30 0000000"))
    assert result.outcome == "none" and result.created and result.cache
    assert [r.title for r in result.current] == ["Caller +49 30 0000000"]
    again = await run_startup(steps, demo, voice("+49 30 0000000"))
    assert again.outcome == "one" and not again.created, "the created contact is found now"
    anna = await run_startup(steps, demo, voice("+49 30 1234567"))
    assert anna.related and all(r.id != anna.current[0].id for r in anna.related)
