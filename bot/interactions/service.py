"""The interaction service: events in, the interaction's state out; the card follows.

Each event is stored in one transaction (the event hooks, e.g. memorialization, queue
their work in it) and then hands the interaction to the card delivery
(:mod:`bot.interactions.delivery`), which posts the Customer Card once into the assigned
agent's personal chat and from then on updates it in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import ConflictError, InputError, NotFoundError

from ..crm_directory import CrmDirectory
from ..settings import Settings
from ..storage.tables import (
    InstallationRow,
    InteractionEventRow,
    InteractionRecordRow,
    InteractionRow,
)
from . import store
from .changes import InteractionChanges
from .delivery import POST_LEASE_SECONDS, CardDelivery
from .event_rows import apply_event, claim_post, new_interaction, state_out
from .events import AGENT_REQUIRED, InteractionEvent, InteractionStateOut, StoredEvent

__all__ = ["EventHook", "InteractionService"]

# Called inside the transaction that stores each interaction event (workers enqueue their
# jobs there, so a job exists exactly when its event does).
EventHook = Callable[[AsyncSession, InteractionRow, StoredEvent], Awaitable[None]]


class InteractionService:
    """Interaction events, the waiting ones an install releases, and the stored state."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession],
        directory: CrmDirectory,
        changes: InteractionChanges,
        delivery: CardDelivery,
        settings: Settings,
        event_hooks: Sequence[EventHook] = (),
    ) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions
        self._directory = directory
        self._changes = changes
        self._delivery = delivery
        self._region = settings.default_phone_region
        self._event_hooks = tuple(event_hooks)

    async def handle_event(self, event: InteractionEvent) -> InteractionStateOut:
        """Store an event and bring the card up to date.

        Raises ``NotFoundError`` for an unknown interaction or configuration and
        ``ConflictError`` (after storing the event) when the agent has not installed the app.
        """
        if event.type in AGENT_REQUIRED and event.agent is None:
            raise InputError(f"agent is required on {event.type}", field="agent")
        config_id = (
            await self._directory.resolve_id(event.configuration_id)
            if event.type == "started"
            else None
        )
        async with self._changes.lock(event.interaction_id):
            try:
                state, waiting, posts = await self._store_event(event, config_id)
            except IntegrityError:  # the eventId was seen before
                return await self._duplicate(event)
        if posts:
            self._delivery.own_post(state.interaction_id)
        self._delivery.schedule(state.interaction_id)
        if waiting:
            name = event.agent.name or event.agent.id if event.agent else ""
            raise ConflictError(
                f"Agent {name} has not installed the Customer Card app in Teams; the card "
                "is sent when they install it.",
                code="agent_not_installed",
                field="agent",
            )
        return state

    async def _duplicate(self, event: InteractionEvent) -> InteractionStateOut:
        try:
            state = await self.state(event.interaction_id)
        except NotFoundError:
            raise ConflictError(
                "eventId was already used for another interaction",
                code="duplicate_event",
                field="eventId",
            ) from None
        state.duplicate = True
        return state

    async def _store_event(
        self, event: InteractionEvent, config_id: str | None
    ) -> tuple[InteractionStateOut, bool, bool]:
        """Store the event; the interaction's state (as committed), whether it waits for
        the agent's install and whether this process is to post its card. The state is read
        in the same transaction: the 202 answer needs no second session. A repeated
        ``eventId`` fails the event's INSERT (unique): the caller answers it as a
        duplicate."""
        stored = StoredEvent.from_event(event)
        async with self._sessions() as session, session.begin():
            row = await session.get(InteractionRow, event.interaction_id)
            records: list[InteractionRecordRow] = []
            new = row is None
            if row is None:
                if event.type != "started":
                    raise store.unknown_interaction(event.interaction_id, "interactionId")
                row = new_interaction(event, config_id or "")
            else:
                records = await store.records_of(session, row.id)
            apply_event(row, event, stored.occurred_at, self._region)
            posts = False
            if event.type in ("started", "transferred") and event.agent is not None:
                await self._assign(session, row, event)
                posts = claim_post(row, POST_LEASE_SECONDS)
            if new:  # added once complete: one INSERT, not an INSERT and an UPDATE; and
                session.add(row)  # before the event that refers to it
                await session.flush()
            session.add(
                InteractionEventRow(
                    event_id=stored.event_id,
                    interaction_id=row.id,
                    type=stored.type,
                    ended_by=stored.ended_by,
                    agent=stored.agent,
                    data=stored.data,
                    script_variables=stored.script_variables,
                    occurred_at=stored.occurred_at,
                )
            )
            await session.flush()
            for hook in self._event_hooks:
                await hook(session, row, stored)
        return state_out(row, records), row.delivery_pending, posts

    async def _assign(
        self, session: AsyncSession, row: InteractionRow, event: InteractionEvent
    ) -> None:
        agent = event.agent
        assert agent is not None
        with session.no_autoflush:  # a new row is not in the session yet; a known one waits
            installation = await store.find_installation(
                session,
                aad_object_id=agent.aad_object_id,
                email=agent.email,
                teams_user_id=agent.teams_user_id,
            )
            new_id = installation.id if installation else None
            if row.card_activity_id and row.installation_id != new_id:
                # The previous agent's card turns read-only ("transferred").
                previous = await session.get(InstallationRow, row.installation_id)
                if previous is not None:
                    row.previous_cards = [
                        *row.previous_cards,
                        {
                            "reference": previous.reference,
                            "activityId": row.card_activity_id,
                            "teamsUserId": previous.teams_user_id,
                            "final": False,
                        },
                    ]
                row.card_activity_id = row.card_conversation_id = None
        row.agent_id, row.agent_name = agent.id, agent.name
        row.agent_aad_object_id = agent.aad_object_id
        row.agent_email = agent.email.strip().lower() if agent.email else None
        row.agent_teams_user_id = agent.teams_user_id
        row.installation_id = new_id
        row.delivery_pending = installation is None
        if installation is not None:
            row.locale = installation.locale

    async def state(self, interaction_id: str) -> InteractionStateOut:
        """The interaction's state and records (``GET /api/v1/interactions/{id}``)."""
        async with self._read_sessions() as session:
            row = await store.interaction_or_404(session, interaction_id, field="interactionId")
            records = await store.records_of(session, interaction_id)
        return state_out(row, records)

    async def deliver_pending(self, installation: InstallationRow) -> int:
        """Assign interactions that waited for this agent's install; returns how many."""
        async with self._sessions() as session, session.begin():
            rows = await store.pending_for(session, installation)
            for row in rows:
                row.installation_id = installation.id
                row.delivery_pending = False
                row.locale = installation.locale
                claim_post(row, POST_LEASE_SECONDS)
        for row in rows:
            self._delivery.own_post(row.id)
            self._delivery.schedule(row.id)
        return len(rows)

    async def active_interaction(self, teams_user_id: str) -> str | None:
        """The id of the agent's newest open interaction, if any."""
        async with self._sessions() as session:
            installation = await store.installation_by_user(session, teams_user_id)
            if installation is None:
                return None
            row = await store.active_interaction_of(session, installation.id)
            return row.id if row else None
