"""View data for the card tests: the states an agent meets, as bot/ would fill them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cards import (
    build_compose_extension_result,
    build_customer_card,
    build_form_card,
    build_help_card,
    build_notice_card,
    build_whoami_card,
    task_continue,
)
from cards.view import (
    CustomerCardView,
    FieldView,
    FormField,
    FormView,
    HistoryView,
    Notice,
    RecordView,
    TypeChoice,
)

INTERACTION = "int-4711"
AGENT = "29:1agent-teams-id"
LOCALES = ["en-US", "de-DE"]


def contact(n: int = 1, origin: str = "match", url: bool = True) -> RecordView:
    return RecordView(
        type="contact",
        type_label="Contact",
        id=f"003{n:05d}",
        title=f"Erika Mustermann {n}" if n > 1 else "Erika Mustermann",
        url=f"https://crm.example.com/contact/003{n:05d}" if url else "",
        fields=[
            FieldView(name="phone", label="Phone", value="+49 30 1234567"),
            FieldView(name="email", label="Email", value=f"erika{n}@example.com"),
            FieldView(name="account", label="Account", value="Muster GmbH"),
        ],
        origin=origin,  # type: ignore[arg-type]
    )


def case(n: int = 1, origin: str = "related") -> RecordView:
    return RecordView(
        type="case",
        type_label="Case",
        id=f"500{n:05d}",
        title=f"Router keeps rebooting ({n})",
        url=f"https://crm.example.com/case/500{n:05d}",
        fields=[
            FieldView(name="status", label="Status", value="Open"),
            FieldView(name="priority", label="Priority", value="High"),
            FieldView(name="description", label="Description", value=""),
        ],
        origin=origin,  # type: ignore[arg-type]
    )


def anna(origin: str = "match") -> RecordView:
    """The demo caller's contact as the demo CRM's default card mapping shows it: five text
    fields, the account by name (linked) and a picklist."""
    return RecordView(
        type="contact",
        type_label="Contact",
        id="con-1b2c3d4e5f60",
        title="Anna Schmidt",
        url="https://crm.example.com/contact/con-1b2c3d4e5f60",
        fields=[
            FieldView(name="email", label="Email", value="anna.schmidt@schmidt-logistik.example"),
            FieldView(name="phone", label="Phone", value="+49 30 1234567"),
            FieldView(name="mobile_phone", label="Mobile", value="0171 2345678"),
            FieldView(name="title", label="Title", value="Leiterin Disposition"),
            FieldView(
                name="account_id",
                label="Account",
                value="Schmidt Logistik GmbH",
                url="https://crm.example.com/account/acc-63d559913aee",
            ),
            FieldView(name="mailing_city", label="Mailing City", value="Berlin"),
            FieldView(name="preferred_language", label="Preferred Language", value="de"),
        ],
        origin=origin,  # type: ignore[arg-type]
    )


def demo_related() -> list[RecordView]:
    """What the demo CRM relates to Anna: her account, a colleague, two open cases and a
    subscription (with a number, a date and a yes/no field)."""
    base = "https://crm.example.com"
    return [
        RecordView(
            type="account",
            type_label="Account",
            id="acc-63d559913aee",
            title="Schmidt Logistik GmbH",
            url=f"{base}/account/acc-63d559913aee",
            fields=[
                FieldView(name="phone", label="Phone", value="+49 30 5550100"),
                FieldView(
                    name="website", label="Website", value="https://schmidt-logistik.example"
                ),
                FieldView(name="industry", label="Industry", value="Logistics"),
                FieldView(name="customer_number", label="Customer number", value="K-10023"),
            ],
            origin="related",
        ),
        contact(2, origin="related"),
        case(1),
        case(2),
        RecordView(
            type="custom_subscription",
            type_label="Subscription",
            id="sub-000000000001",
            title="Premium Support 24/7",
            url=f"{base}/custom_subscription/sub-000000000001",
            fields=[
                FieldView(name="monthly_fee", label="Monthly fee", value="1490.5", kind="number"),
                FieldView(name="start_date", label="Start date", value="2025-01-31", kind="date"),
                FieldView(name="auto_renew", label="Auto renew", value="true", kind="boolean"),
            ],
            origin="related",
        ),
    ]


def history(n: int = 1) -> HistoryView:
    return HistoryView(
        interaction_id=f"int-{4700 + n}",
        channel="voice" if n % 2 else "digital",
        started_at=datetime(2024, 5, n, 9, 30, tzinfo=UTC),
        agent_name="Max Agent",
        state="acw_completed",
        summary="Billing question",
    )


CREATE_TYPES = [
    TypeChoice(name="case", label="Case"),
    TypeChoice(name="task", label="Task"),
    TypeChoice(name="lead", label="Lead"),
]


def card_view(locale: str = "en-US", **changes: Any) -> CustomerCardView:
    base: dict[str, Any] = {
        "interaction_id": INTERACTION,
        "locale": locale,
        "customer": "Erika Mustermann",
        "channel": "voice",
        "skill": "Billing Support",
        "state": "started",
        "crm_label": "Demo CRM",
        "create_types": CREATE_TYPES,
        "refresh_user_ids": [AGENT],
    }
    base.update(changes)
    return CustomerCardView(**base)


def one_match(locale: str = "en-US") -> CustomerCardView:
    return card_view(
        locale,
        match_outcome="one",
        current=[contact(origin="match")],
        related=[case(1), case(2)],
        related_total=2,
        history=[history(1), history(2)],
    )


def demo_call(locale: str = "en-US") -> CustomerCardView:
    """The demo call (``simulate call +49 30 1234567``) once the related records are in."""
    return card_view(
        locale,
        customer="Anna Schmidt",
        match_outcome="one",
        current=[anna()],
        related=demo_related(),
        related_total=5,
        history=[history(1), history(2)],
    )


def after_search(locale: str = "en-US") -> CustomerCardView:
    """One match, then the agent searched for "Wagner": the results come first in Related."""
    wagners = [
        contact(n, origin="search").model_copy(update={"title": f"{first} Wagner"})
        for n, first in ((4, "Klaus"), (5, "Petra"))
    ]
    view = demo_call(locale)
    return view.model_copy(
        update={"search_query": "Wagner", "related": wagners + view.related, "related_total": 7}
    )


def after_pins(locale: str = "en-US") -> CustomerCardView:
    """One match, and the agent pinned the account and a case as well."""
    view = demo_call(locale)
    related = demo_related()
    account, case_one = related[0], related[2]
    pinned = [r.model_copy(update={"origin": "pinned"}) for r in (account, case_one)]
    rest = [r for r in related if r not in (account, case_one)]
    return view.model_copy(
        update={"current": [*view.current, *pinned], "related": rest, "related_total": len(rest)}
    )


def several_matches(locale: str = "en-US") -> CustomerCardView:
    return card_view(
        locale,
        match_outcome="several",
        related=[contact(1), contact(2), contact(3, url=False)],
        related_total=3,
    )


def no_matches(locale: str = "en-US") -> CustomerCardView:
    return card_view(locale, customer="+49 30 9876543", match_outcome="none")


def read_only(locale: str = "en-US") -> CustomerCardView:
    view = one_match(locale)
    return view.model_copy(
        update={"read_only": True, "read_only_reason": "transferred", "state": "transferred"}
    )


def with_notices(locale: str = "en-US") -> CustomerCardView:
    return card_view(
        locale,
        channel="digital",
        customer="erika@example.com",
        match_outcome="one",
        current=[contact(origin="match"), case(7, origin="created")],
        search_query="Muster",
        related=[case(3, origin="search")],
        related_total=12,
        notices=[
            Notice(level="info", key="record_created"),
            Notice(level="warning", key="crm_rate_limited"),
            Notice(level="error", key="memorialization_failed"),
        ],
    )


def long_records(count: int = 200) -> CustomerCardView:
    """A view far over the size limit: long titles and long field values."""
    long_value = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20
    records = [
        RecordView(
            type="case",
            type_label="Case",
            id=f"500{n:05d}",
            title=f"Case {n}: " + "a very long subject line " * 10,
            url=f"https://crm.example.com/case/500{n:05d}?" + "x" * 200,
            fields=[
                FieldView(name=f"f{i}", label=f"Field {i}", value=long_value) for i in range(8)
            ],
            origin="search",
        )
        for n in range(count)
    ]
    return card_view(match_outcome="several", related=records, related_total=count)


def form(locale: str = "en-US", mode: str = "create", errors: bool = False) -> FormView:
    fields = [
        FormField(
            name="subject",
            label="Subject",
            type="text",
            required=True,
            max_length=80,
            value="" if errors else "Router keeps rebooting",
            error="This field is required." if errors else "",
        ),
        FormField(
            name="description",
            label="Description",
            type="long_text",
            max_length=32000,
            value="Since Monday.",
        ),
        FormField(name="phone", label="Callback number", type="phone", value="+49 30 1234567"),
        FormField(name="email", label="Email", type="email", value="erika@example.com"),
        FormField(name="amount", label="Amount", type="number", value="12.5"),
        FormField(name="escalated", label="Escalated", type="boolean", value="true"),
        FormField(name="due", label="Due date", type="date", value="2024-05-31"),
        FormField(
            name="priority",
            label="Priority",
            type="picklist",
            required=True,
            options=["Low", "Medium", "High"],
            value="High",
        ),
    ]
    if errors:
        fields[1] = fields[1].model_copy(update={"error": "At most 32000 characters."})
    return FormView(
        mode=mode,  # type: ignore[arg-type]
        interaction_id=INTERACTION,
        locale=locale,
        record_type="case",
        type_label="Case",
        record_id="50000001" if mode == "edit" else "",
        fields=fields,
        error="The CRM rejected the change." if errors else "",
    )


IDENTITY = {
    "teams_user_id": AGENT,
    "aad_object_id": "6f1e6c2a-0000-4000-8000-00000000a9e1",
    "tenant_id": "72f988bf-0000-4000-8000-000000000001",
    "name": "Max Agent",
    "email": "",
}

# Every card the builders make, by golden-file name, for each locale.
CARDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "customer_one_match": lambda loc: build_customer_card(one_match(loc)),
    "customer_several_matches": lambda loc: build_customer_card(several_matches(loc)),
    "customer_no_matches": lambda loc: build_customer_card(no_matches(loc)),
    "customer_demo_call": lambda loc: build_customer_card(demo_call(loc)),
    "customer_after_search": lambda loc: build_customer_card(after_search(loc)),
    "customer_after_pins": lambda loc: build_customer_card(after_pins(loc)),
    "customer_read_only": lambda loc: build_customer_card(read_only(loc)),
    "customer_notices": lambda loc: build_customer_card(with_notices(loc)),
    "form_create": lambda loc: build_form_card(form(loc)),
    "form_edit_errors": lambda loc: build_form_card(form(loc, "edit", errors=True)),
    "form_inline": lambda loc: build_form_card(form(loc), inline=True),
    "help": lambda loc: build_help_card(loc, dev_mode=True),
    "help_production": lambda loc: build_help_card(loc, dev_mode=False),
    "whoami": lambda loc: build_whoami_card(loc, IDENTITY),
    "notice_error": lambda loc: build_notice_card(loc, "crm_unavailable", level="error"),
}

# Wrappers that carry cards (invoke bodies), by golden-file name.
PAYLOADS: dict[str, Callable[[str], dict[str, Any]]] = {
    "message_extension_result": lambda loc: build_compose_extension_result(
        [contact(1, origin="search"), case(2, origin="search"), contact(3, url=False)], loc
    ),
    "task_continue_form": lambda loc: task_continue(build_form_card(form(loc)), "New case"),
}
