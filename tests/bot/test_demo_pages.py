"""The demo CRM's web pages, served over a real demo adapter on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.api.demo_pages import add_routes
from crm.errors import NotFoundError
from crm.models import PhoneSearch, TimelineActivity
from crm.protocol import CrmAdapter
from crm.registry import AdapterContext, create_adapter


class Page(HTMLParser):
    """What a reader sees: the visible text and the links (href, text), scripts counted."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.words: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.scripts = 0
        self._skip = 0
        self._href: str | None = None
        self._link_text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._skip += 1
            self.scripts += tag == "script"
        if tag == "a":
            self._href, self._link_text = dict(attrs).get("href"), []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._link_text)))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skip or not data.strip():
            return
        self.words.append(data.strip())
        if self._href is not None:
            self._link_text.append(data.strip())

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def href_of(self, text: str) -> str:
        return next(href for href, label in self.links if label == text)


@pytest.fixture
async def demo(tmp_path) -> AsyncIterator[CrmAdapter]:
    async with httpx.AsyncClient() as http:
        adapter = create_adapter(
            AdapterContext(
                configuration_id="cfg-demo",
                type="demo",
                label="Demo CRM",
                settings={},
                secrets={},
                http=http,
                data_dir=tmp_path,
                extra={"demo_crm_url": f"sqlite+aiosqlite:///{tmp_path / 'demo-crm.db'}"},
            )
        )
        yield adapter
        await adapter.aclose()


@pytest.fixture
async def client(aiohttp_client, demo: CrmAdapter) -> TestClient:  # type: ignore[no-untyped-def]
    async def provide() -> CrmAdapter:
        return demo

    app = web.Application()
    add_routes(app, provide)
    return await aiohttp_client(app)


async def _page(client: TestClient, path: str, status: int = 200) -> Page:
    response = await client.get(path)
    assert response.status == status
    assert response.content_type == "text/html"
    return Page(await response.text())


async def _anna(demo: CrmAdapter) -> str:
    """The path of Anna Schmidt's page, taken from the record link the card would show."""
    [anna] = await demo.search(PhoneSearch(number="+49 30 1234567"))
    assert anna.url.startswith("http://localhost:3978/demo-crm/contact/")
    return urlsplit(anna.url).path


async def test_a_contact_page_shows_name_phone_labels_and_related_records(client, demo) -> None:
    page = await _page(client, await _anna(demo))

    assert "Anna Schmidt" in page.text
    assert "Phone +49 30 1234567" in page.text
    assert "Mobile 0171 2345678" in page.text
    assert "Email anna.schmidt@schmidt-logistik.example" in page.text
    assert "Title Leiterin Disposition" in page.text
    # related: the account, a colleague, an open case; the closed case is not listed
    account = page.href_of("Schmidt Logistik GmbH")
    assert account.startswith("/demo-crm/account/acc-")
    assert page.href_of("Markus Berger").startswith("/demo-crm/contact/")
    assert page.href_of("Lieferung verspätet – Sendung 4711").startswith("/demo-crm/case/")
    assert "Rechnung März doppelt gebucht" not in page.text
    # the Account field links to the same account page, by name
    assert "Account Schmidt Logistik GmbH" in page.text
    assert [href for href, label in page.links if label == "Schmidt Logistik GmbH"] == [
        account,
        account,
    ]


async def test_related_links_lead_to_pages_that_exist(client, demo) -> None:
    page = await _page(client, await _anna(demo))
    account = await _page(client, page.href_of("Schmidt Logistik GmbH"))

    assert "Schmidt Logistik GmbH" in account.text
    assert "Website https://schmidt-logistik.example" in account.text
    assert "Anna Schmidt" in [label for _, label in account.links]


async def test_timeline_tasks_appear_in_the_activity_history(client, demo) -> None:
    path = await _anna(demo)
    record_id = path.rsplit("/", 1)[1]
    await demo.add_timeline(
        TimelineActivity(
            key="i-1:contact:" + record_id,
            record_type="contact",
            record_id=record_id,
            subject="Inbound call +49 30 1234567",
            direction="inbound",
            duration_seconds=185,
            disposition="Resolved",
            agent_name="Jana Agent",
        )
    )

    page = await _page(client, path)

    assert "Activity history" in page.text
    history = page.text.split("Activity history", 1)[1]
    for seen in ("Inbound call +49 30 1234567", "inbound", "185", "Resolved", "Jana Agent"):
        assert seen in history


async def test_values_are_escaped_and_no_script_runs(client, demo) -> None:
    evil = await demo.create(
        "contact",
        {
            "first_name": "<script>alert(1)</script>",
            "last_name": 'O\'Neil & "Sons"',
            "description": "<img src=x onerror=alert(2)>",
        },
    )

    response = await client.get(f"/demo-crm/contact/{evil.id}")
    markup = await response.text()
    page = Page(markup)

    assert response.status == 200
    assert '<script>alert(1)</script> O\'Neil & "Sons"' in page.text  # shown as text
    assert "<img src=x onerror=alert(2)>" in page.text
    assert page.scripts == 0
    assert "<img" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_index_lists_every_type_with_counts_and_links(client) -> None:
    page = await _page(client, "/demo-crm/")

    for label in ("Account", "Contact", "Case", "Lead", "Task", "Subscription"):
        assert label in page.words
    assert "contact · 16" in page.text
    assert "account · 6" in page.text
    assert "Weber & Söhne KG" in page.text
    anna = await _page(client, page.href_of("Anna Schmidt"))
    assert "Anna Schmidt" in anna.text


async def test_bare_prefix_redirects_to_the_index(client) -> None:
    response = await client.get("/demo-crm", allow_redirects=False)
    assert response.status == 308
    assert response.headers["Location"] == "/demo-crm/"


@pytest.mark.parametrize(
    "path",
    [
        "/demo-crm/contact/con-doesnotexist",
        "/demo-crm/spaceship/con-1",
        "/demo-crm/contact/%3Cb%3Ebold%3C%2Fb%3E",
    ],
)
async def test_unknown_records_get_a_404_page(client, path) -> None:
    response = await client.get(path)
    markup = await response.text()
    page = Page(markup)

    assert response.status == 404
    assert "Record not found" in page.text
    assert page.href_of("All records") == "/demo-crm/"
    assert "<b>" not in markup


async def test_no_demo_crm_behind_the_default_is_an_error_page(aiohttp_client) -> None:
    async def provide() -> CrmAdapter:
        raise NotFoundError("The default <configuration> is not the demo CRM.", code="not_demo")

    app = web.Application()
    add_routes(app, provide)
    client = await aiohttp_client(app)
    response = await client.get("/demo-crm/contact/con-1")
    markup = await response.text()
    page = Page(markup)
    assert (response.status, response.content_type) == (404, "text/html")
    assert "The default <configuration> is not the demo CRM." in page.text
    assert "&lt;configuration&gt;" in markup  # autoescaped
    assert "404 · not_demo" in page.text
    assert page.href_of("All records") == "/demo-crm/"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
