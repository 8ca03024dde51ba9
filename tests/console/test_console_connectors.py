"""Issue #16's rest, in Debian's Chromium: an admin sets up a platform connector from the
form its settings model generates (each error next to its field, the secret write-only),
copies the inbound URL, edits the agent table as rows (add, change, remove; each error at
its input), disables it and finds it all in the audit rows; and edits the start-up steps as
a list of forms (add, move, remove, errors at their fields). Every page passes axe-core
without serious violations; screenshots land in tests/console/artifacts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import ADMIN_KEY, Served, assert_accessible, new_page, shot

pytestmark = pytest.mark.slow

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token-browser-0001"


async def _sign_in(page: Any, served: Served, label: str = "Admin key") -> None:
    await page.goto(served.url + "/admin/sign-in")
    await page.get_by_label(label).fill(ADMIN_KEY)
    await page.get_by_label(label).press("Enter")
    await page.wait_for_url(re.compile(r"/admin/configurations$"))


async def _click(page: Any, name: str) -> None:
    await page.get_by_role("button", name=name, exact=True).click()
    await page.wait_for_load_state()


async def _main(page: Any) -> str:
    return str(await page.locator("main").inner_text())


async def test_an_admin_connects_twilio_and_maps_its_agents(browser: Any, served: Served):
    page = await new_page(browser)
    await _sign_in(page, served)
    await page.get_by_role("link", name="Platform connectors").click()
    await page.wait_for_load_state()
    rows = await page.locator("tbody tr").all_inner_texts()
    assert len(rows) == 4 and all("not set up" in r for r in rows)
    await assert_accessible(page)
    await shot(page, "c1-connectors")

    await page.get_by_role("link", name="Twilio Flex / TaskRouter").click()
    url = page.locator("code.url")
    assert (await url.inner_text()).endswith("/api/v1/connectors/twilio/taskrouter")
    await page.get_by_label("account_sid").fill("AC12")
    await _click(page, "Create")
    assert "Please correct the marked fields." in await _main(page)
    assert await page.get_by_label("account_sid").get_attribute("aria-invalid") == "true"
    assert "pattern" in await page.locator("#err-settings\\.account_sid").inner_text()
    await assert_accessible(page)
    await page.get_by_label("account_sid").fill(ACCOUNT)
    await _click(page, "Create")
    assert "required" in await page.locator("#err-secrets\\.auth_token").inner_text()
    await page.get_by_label("auth_token").fill(TOKEN)
    await _click(page, "Create")
    assert "Saved." in await _main(page)
    assert TOKEN not in await page.content()
    assert "set (literal)" in await _main(page)

    # the agent table: a row, another added, a bad address at its input, one removed
    await page.get_by_label("Platform agent id 1").fill("WK0123456789abcdef0123456789abcdef")
    await page.get_by_label("Teams user (email/UPN or AAD object id) 1").fill("alex@contoso.com")
    await _click(page, "Add a row")
    assert "Not saved yet" in await _main(page)
    await page.get_by_label("Platform agent id 2").fill("WK1")
    await page.get_by_label("Teams user (email/UPN or AAD object id) 2").fill("sam at contoso")
    await _click(page, "Save the agent table")
    error = page.locator("#err-agents\\.1\\.upn")
    assert "email/UPN" in await error.inner_text()
    assert await page.locator("#agents\\.0\\.id").input_value() != ""  # kept as typed
    await assert_accessible(page)
    await shot(page, "c2-agent-error")
    await page.get_by_label("Teams user (email/UPN or AAD object id) 2").fill("sam@contoso.com")
    await _click(page, "Save the agent table")
    assert "Saved." in await _main(page)
    await _click(page, "Remove row 1")
    await _click(page, "Save the agent table")
    assert await page.locator("#agents\\.0\\.id").input_value() == "WK1"
    assert await page.locator("#agents\\.1\\.id").input_value() == ""  # the empty row to add

    await _click(page, "Disable")
    assert "Status: inactive" in await _main(page)
    audit = await page.locator("table.audit").inner_text()
    for action in ("connector.create", "connector.agents", "connector.status"):
        assert action in audit
    assert "alex@contoso.com" not in audit and TOKEN not in audit
    await assert_accessible(page)
    await shot(page, "c3-connector")
    await page.get_by_role("link", name="Back: Platform connectors").click()
    assert "inactive" in await page.locator("tbody").inner_text()
    assert page.script_errors == []


async def test_start_up_steps_as_forms(browser: Any, served: Served):
    page = await new_page(browser)
    await _sign_in(page, served)
    await page.get_by_role("link", name=re.compile("Demo CRM")).first.click()
    await page.get_by_role("link", name="Start-up steps").click()
    await page.wait_for_load_state()
    legends = page.locator("fieldset.step legend")
    assert await legends.count() >= 1
    await page.get_by_label("Add a step").select_option("create_if_none")
    await _click(page, "Add a step")
    await _click(page, f"Move up: Step {await legends.count()}")
    count = await legends.count()
    new = count - 1  # moved one up: the one before the last
    await _click(page, "Save")
    key = f"s\\.{new - 1}\\.recordType"
    assert "required" in (await page.locator(f"#err-{key}").inner_text()).lower()
    await assert_accessible(page)
    await shot(page, "c4-steps-error")
    await page.locator(f"#{key}").fill("contact")
    await page.locator(f"#s\\.{new - 1}\\.fields").fill("phone = {ANI}\nlast_name = Caller")
    await _click(page, "Save")
    assert "Saved." in await _main(page)
    kinds = [await legends.nth(i).inner_text() for i in range(await legends.count())]
    assert "create_if_none" in kinds[-2]
    await page.locator("summary").click()  # the advanced JSON view shows the same steps
    assert '"recordType": "contact"' in await page.locator("#steps").input_value()
    await assert_accessible(page)
    await shot(page, "c5-steps")
    await _click(page, f"Remove: Step {count - 1}")
    await _click(page, "Use the built-in default")
    assert "The built-in default runs." in await _main(page)


async def test_german_connector_page(browser: Any, served: Served):
    page = await new_page(browser, "de-DE")
    await _sign_in(page, served, "Admin-Schlüssel")
    await page.get_by_role("link", name="Plattform-Connectoren").click()
    await page.get_by_role("link", name="NICE CXone").click()
    assert "Eingangs-URL" in await _main(page)
    assert "/workflow/{workflowId}" in await page.locator("code.url").inner_text()
    await assert_accessible(page)
    await shot(page, "c6-german-cxone")
