"""Pure: the order in which platform events reach an interaction, and what is stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.connectors.ordering import Progress, Queued, plan

T0 = datetime(2025, 1, 1, 10, tzinfo=UTC)


def queued(row: int, type_: str, *, leg: str = "c1", agent: str | None = None, at: int = 0):  # type: ignore[no-untyped-def]
    return Queued(row, type_, leg, agent, T0 + timedelta(seconds=at))


def test_everything_waits_for_the_assignment_then_goes_in_stage_order() -> None:
    early = [queued(1, "acw_completed", at=90), queued(2, "ended", at=60)]
    assert plan(None, early, {"c1": T0}) == []
    steps = plan(None, [*early, queued(3, "started", agent="a", at=5)], {"c1": T0})
    assert [(s.row_id, s.action, s.type) for s in steps] == [(3, "apply", "started")]
    # the end waits for the card's look-up (its pins are what the CRM write needs)
    progress = Progress("started", "a", "c1")
    assert plan(progress, early, {"c1": T0}, searched=False) == []
    steps = plan(progress, early, {"c1": T0})
    assert [(s.row_id, s.action, s.type) for s in steps] == [
        (2, "apply", "ended"),
        (1, "apply", "acw_completed"),
    ]


def test_repeats_and_superseded_stages_are_stale() -> None:
    progress = Progress("acw_completed", "a", "c1")
    steps = plan(
        progress,
        [queued(1, "started", agent="a"), queued(2, "ended"), queued(3, "updated")],
        {"c1": T0},
    )
    assert [(s.row_id, s.action) for s in steps] == [(1, "stale"), (3, "apply"), (2, "stale")]


def test_a_new_agent_is_a_transfer_and_the_old_legs_end_is_stale() -> None:
    legs = {"c1": T0, "c2": T0 + timedelta(seconds=100)}
    steps = plan(
        Progress("started", "a", "c1"),
        [
            queued(1, "ended", leg="c1", at=110),
            queued(2, "started", leg="c2", agent="b", at=120),
            queued(3, "acw_completed", leg="c2", at=300),
        ],
        legs,
    )
    assert [(s.row_id, s.action, s.type) for s in steps] == [
        (2, "apply", "transferred"),
        (1, "stale", "ended"),
        (3, "apply", "acw_completed"),
    ]
    # an assignment of an older leg after the transfer changes nothing
    late = plan(Progress("transferred", "b", "c2"), [queued(4, "started", agent="a")], legs)
    assert [(s.row_id, s.action) for s in late] == [(4, "stale")]


def test_the_agent_table_wins_over_the_platforms_email() -> None:
    from bot.connectors.agents import mapped_agent
    from bot.interactions.events import AgentRef

    agent = AgentRef(id="WK1", name="Alex", email="alex@platform.example")
    assert mapped_agent(agent, {}) == agent
    assert mapped_agent(agent, {"WK1": "Alex@Contoso.example"}).email == "alex@contoso.example"
    guid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    by_aad = mapped_agent(agent, {"WK1": guid})
    assert (by_aad.aad_object_id, by_aad.email) == (guid, None)
