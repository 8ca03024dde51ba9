"""The issue's "done when", in Debian's Chromium: a new admin signs in with a key, creates a
working demo-CRM configuration (Test connection), a memorialization mapping and a dynamic
data mapping from the CRM's field pickers (the 5 text + 3 other limit as they pick, each
error next to its field), sees the card preview drawn by the Adaptive Cards renderer, runs
the search workflow with Try it, and retries a failed write-back; the audit trail shows it
all. Every page passes axe-core without serious violations; screenshots land in
tests/console/artifacts."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.memorialization import InteractionSnapshot, enqueue
from bot.storage.db import create_engine, session_factory
from crm.mappings import MemorializationMapping
from tests.playground.conftest import _free_port

from .conftest import ADMIN_KEY, Served, assert_accessible, new_page, serve, shot
from .fake_entra import CLIENT_ID, CLIENT_SECRET, FakeEntra

pytestmark = pytest.mark.slow


async def _sign_in(page: Any, served: Served) -> None:
    await page.goto(served.url + "/admin/")
    assert "/admin/sign-in" in page.url  # nothing of the console without a session
    await page.get_by_label("Admin key").fill(ADMIN_KEY)
    await page.get_by_label("Admin key").press("Enter")  # the keyboard alone signs in
    await page.wait_for_url(re.compile(r"/admin/configurations$"))


async def _submit(page: Any, name: str) -> None:
    await page.get_by_role("button", name=name, exact=True).click()
    await page.wait_for_load_state()


async def _queue_failing_write(served: Served, config_id: str, record_id: str) -> None:
    """What the interactions service queues when a call ends (the platform's side)."""
    engine = create_engine(f"sqlite+aiosqlite:///{served.data_dir / 'customer-card.db'}")
    try:
        async with session_factory(engine)() as session, session.begin():
            await enqueue(
                session,
                InteractionSnapshot(
                    interaction_id="ix-console-1",
                    configuration_id=config_id,
                    channel="voice",
                    trigger="acw_completed",
                    ended_by="agent",
                    started_at=datetime.now(UTC),
                    data={"Disposition Notes": "Delivery date confirmed."},
                    targets=[{"recordType": "contact", "recordId": record_id}],
                ),
                MemorializationMapping.model_validate(
                    {
                        "name": "Call notes",
                        "recordTypes": [
                            {
                                "recordType": "contact",
                                "fields": [
                                    {
                                        "crmField": "description",
                                        "source": {
                                            "channel": "voice",
                                            "field": "Disposition Notes",
                                        },
                                    }
                                ],
                            }
                        ],
                    }
                ),
            )
    finally:
        await engine.dispose()


async def _reload_until(page: Any, text: str, seconds: float = 30) -> None:
    for _ in range(int(seconds * 2)):
        if text in await page.locator("main").inner_text():
            return
        await asyncio.sleep(0.5)
        await page.reload()
    raise AssertionError(f"{text!r} never appeared on {page.url}")


async def _set_latency(page: Any, served: Served, config_id: str, value: str) -> None:
    await page.goto(f"{served.url}/admin/configurations/{config_id}")
    await page.get_by_label("latency_ms").fill(value)
    await _submit(page, "Save")
    assert "Saved." in await page.locator("main").inner_text()


async def test_a_new_admin_sets_up_the_demo_crm_in_the_console(browser: Any, served: Served):
    page = await new_page(browser)
    await page.goto(served.url + "/admin/sign-in")
    await assert_accessible(page)
    await page.get_by_label("Admin key").fill("not-the-key")
    await _submit(page, "Sign in")
    assert "This is not an admin key." in await page.locator("main").inner_text()
    await _sign_in(page, served)
    await assert_accessible(page)

    # a configuration of the demo CRM, its form generated from the demo settings model
    await page.get_by_role("link", name="New configuration").click()
    await assert_accessible(page)
    await page.get_by_label("Choose the CRM type").select_option("demo")
    await _submit(page, "Next")
    await page.get_by_label("latency_ms").fill("-5")
    await _submit(page, "Create")
    main = await page.locator("main").inner_text()
    assert "Please correct the marked fields." in main
    assert await page.locator("#name").get_attribute("aria-invalid") == "true"
    await page.locator("#name").fill("Demo EU")
    await _submit(page, "Create")
    error = page.locator("#err-settings\\.latency_ms")  # the error next to its field
    assert "greater than or equal to 0" in await error.inner_text()
    await assert_accessible(page)
    await shot(page, "01-configuration-error")
    await page.get_by_label("latency_ms").fill("0")
    await _submit(page, "Create")
    assert "Saved." in await page.locator("main").inner_text()
    config_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    await _submit(page, "Test connection")
    assert "Connection works" in await page.locator("#test-result").inner_text()
    await assert_accessible(page)
    await shot(page, "02-configuration")

    # a memorialization mapping: record type and fields from the CRM, sources from lists
    await page.get_by_role("link", name="Memorialization mappings").click()
    await page.get_by_role("link", name="New mapping").click()
    await page.locator("#name").fill("Call notes")
    await page.get_by_label("Choose a record type").select_option("contact")
    await _submit(page, "Add the record type")
    picker = page.locator("fieldset.picker")
    assert "Contact" in await picker.locator("legend").inner_text()
    description_row = picker.locator("tr", has=page.locator("code", has_text="description"))
    await description_row.locator("select").select_option("voice:Disposition Notes")
    title_row = picker.locator("tr", has=page.locator("code", has_text=re.compile("^title$")))
    await title_row.locator("select").select_option("script_variable")
    await title_row.locator("input").fill("")  # no variable named: refused, next to the field
    await _submit(page, "Save")
    assert await title_row.locator(".error").count() == 1
    await assert_accessible(page)
    await title_row.locator("input").fill("accountnumber")
    await page.locator("#name").press("Enter")  # Enter in a field saves (not "Remove")
    await page.wait_for_load_state()
    assert "Saved." in await page.locator("main").inner_text()
    assert "Call notes" in await page.locator("table").inner_text()
    await shot(page, "03-memorialization-mappings")

    # a dynamic data mapping: the limit as one picks, then the card preview
    await page.goto(f"{served.url}/admin/configurations/{config_id}/dynamic-data-mappings/new")
    await page.locator("#name").fill("Card fields")
    await page.get_by_label("Choose a record type").select_option("contact")
    await _submit(page, "Add the record type")
    text_boxes = page.locator("fieldset.picker input[type=checkbox][data-text='1']")
    assert await text_boxes.count() > 5
    for index in range(5):
        await text_boxes.nth(index).check()
    assert await text_boxes.nth(5).is_disabled(), "a sixth text field is refused as one picks"
    assert "5 of 5 text" in await page.locator(".count").inner_text()
    await text_boxes.nth(4).uncheck()
    await _submit(page, "Preview the card")
    preview = page.locator("#card-preview .ac-adaptiveCard")
    await preview.wait_for()
    assert "Current Interaction" in await preview.inner_text()
    assert page.script_errors == []
    await assert_accessible(page)
    await shot(page, "04-card-preview")
    await _submit(page, "Save")
    assert "Card fields" in await page.locator("table").inner_text()

    # start-up steps and the workflows' list
    await page.goto(f"{served.url}/admin/configurations/{config_id}/startup")
    assert "The built-in default runs." in await page.locator("main").inner_text()
    await assert_accessible(page)
    await page.goto(f"{served.url}/admin/configurations/{config_id}/workflows")
    await assert_accessible(page)

    # Try it: the search workflow with the sample caller
    await page.get_by_role("link", name="Search by phone number").click()
    await _submit(page, "Run")
    result = json.loads(await page.locator("#result").inner_text())
    records = result["result"][0]["records"]
    anna = next(r for r in records if r["title"] == "Anna Schmidt")
    await assert_accessible(page)
    await shot(page, "05-try-it")

    # a write-back that fails (the CRM too slow), is fixed and retried
    await _set_latency(page, served, config_id, "6000")
    await _queue_failing_write(served, config_id, anna["id"])
    await page.goto(served.url + "/admin/memorializations?status=failed")
    await _reload_until(page, "ix-console-1")
    assert "crm_" in await page.locator("table").inner_text()  # the last error's code
    await assert_accessible(page)
    await shot(page, "06-failed-write")
    await _set_latency(page, served, config_id, "0")
    await page.goto(served.url + "/admin/memorializations?status=failed")
    await page.get_by_role("button", name=re.compile("^Retry")).first.click()
    await page.wait_for_load_state()
    assert "Queued again." in await page.locator("main").inner_text()
    await page.goto(served.url + "/admin/memorializations?status=done")
    await _reload_until(page, "ix-console-1")

    # the audit trail: who changed what, when
    await page.get_by_role("link", name="Audit trail").click()
    trail = await page.locator("table").inner_text()
    for action in ("configuration.create", "mapping.create", "dynamic-mapping.create"):
        assert action in trail
    assert "memorialization.retry" in trail and "console, api key" in trail
    await assert_accessible(page)
    await shot(page, "07-audit")

    # sign out: the session is gone
    await _submit(page, "Sign out")
    await page.goto(served.url + "/admin/configurations")
    assert "/admin/sign-in" in page.url
    assert page.script_errors == []


async def test_german_keyboard_only_and_the_preview_under_the_page_policy(
    browser: Any, served: Served
):
    """A German browser gets German pages; sign-in and the card preview work by keyboard;
    the preview draws under the page's own Content-Security-Policy (nothing injected)."""
    page = await new_page(browser, "de-DE", inject=False)
    await page.goto(served.url + "/admin/sign-in")
    assert await page.locator("html").get_attribute("lang") == "de"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Zum Inhalt springen"
    await page.get_by_label("Admin-Schlüssel").focus()
    await page.keyboard.type(ADMIN_KEY)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/admin/configurations$"))
    assert "CRM-Konfigurationen" in await page.locator("h1").inner_text()

    await page.get_by_role("link", name=re.compile("Demo CRM")).first.click()
    config_id = page.url.rsplit("/", 1)[-1]
    await page.goto(f"{served.url}/admin/configurations/{config_id}/dynamic-data-mappings/new")
    await page.locator("#name").fill("Karte")
    await page.get_by_label("Datensatztyp wählen").select_option("contact")
    await page.get_by_role("button", name="Datensatztyp hinzufügen").press("Enter")
    await page.wait_for_load_state()
    box = page.locator("fieldset.picker input[type=checkbox]").first
    await box.focus()
    await page.keyboard.press("Space")
    assert await box.is_checked()
    assert "1 von 5 Text" in await page.locator(".count").inner_text()
    await page.get_by_role("button", name="Karte als Vorschau").press("Enter")
    await page.wait_for_load_state()
    card = page.locator("#card-preview .ac-adaptiveCard")
    await card.wait_for()
    assert "Aktuelle Interaktion" in await card.inner_text()
    assert page.script_errors == []  # no policy violation, no script error
    await shot(page, "08-german-preview")


async def test_microsoft_sign_in_in_the_browser_across_sites(
    browser: Any, served: Served, aiohttp_server: Any, tmp_path: Any
):
    """The identity provider on another site (127.0.0.1 vs localhost): the callback's
    page carries the Strict session cookie on to the console."""
    entra = FakeEntra()
    idp = await aiohttp_server(entra.app())
    entra.base = str(idp.make_url("")).rstrip("/")
    port = _free_port()
    with serve(
        tmp_path,
        PORT=str(port),
        PUBLIC_URL=f"http://localhost:{port}",
        CONSOLE_OIDC_AUTHORITY=entra.authority,
        CONSOLE_OIDC_CLIENT_ID=CLIENT_ID,
        CONSOLE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        CONSOLE_ADMIN_ROLES="CustomerCard.Admin",
    ):
        page = await new_page(browser)
        await page.goto(f"http://localhost:{port}/admin/memorializations")
        await page.get_by_role("link", name="Sign in with Microsoft").click()
        await page.get_by_role("link", name="Continue").click()  # on the provider's site
        await page.wait_for_url(re.compile(r"/admin/memorializations$"))
        assert "megan@contoso.example" in await page.locator("header").inner_text()
        await assert_accessible(page)
