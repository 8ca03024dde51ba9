"""The interaction service: events in, the Customer Card out, agent actions on it.

Every change to an interaction goes through here. The card is posted once into the
assigned agent's personal chat and from then on updated in place (PUT); updates are
coalesced per interaction by :class:`~bot.interactions.cardsync.CardSync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from cards.i18n import translate
from cards.view import FormView, Notice, TypeChoice
from crm.errors import (
    AppError,
    ConflictError,
    CrmError,
    CrmUnavailableError,
    InputError,
    NotFoundError,
)
from crm.models import CrmRecord, EmailSearch, PhoneSearch, TextSearch
from crm.phone import phone_variants
from crm.protocol import CrmAdapter
from crm.sqlite_engine import background_writes
from crm.startup import RelatedStep, StartupResult, run_startup

from ..crm_directory import CrmDirectory
from ..memorialization.outbox import failed_for_interaction
from ..settings import Settings
from ..storage.tables import (
    InstallationRow,
    InteractionEventRow,
    InteractionRecordRow,
    InteractionRow,
)
from . import store
from .cardsync import POST_LEASE_SECONDS, CardSync, PreparedCard, has_universal_actions
from .cardview import CLOSED_STATES, CardContext, CardState, Perspective, build_view
from .catalog import CrmCatalog
from .data import interaction_data
from .events import InteractionEvent, InteractionStateOut, RecordOut, StoredEvent
from .forms import create_fields, edit_fields, form_view_fields, parse_submission
from .records import choose_card_fields

__all__ = ["Actor", "CardState", "EventHook", "InteractionService", "CardBuilder"]

log = logging.getLogger(__name__)

EventHook = Callable[[AsyncSession, InteractionRow, StoredEvent], Awaitable[None]]
# A change an agent makes from the card: runs in the action's transaction with the
# interaction's record rows (kept up to date), returns a notice for the card or None.
Mutation = Callable[
    [AsyncSession, InteractionRow, list[InteractionRecordRow]], Awaitable[Notice | None]
]
CardBuilder = Callable[[Any], dict[str, Any]]
SEARCH_LIMIT = 25
DIALOG_SECONDS = 4.5  # dialog submits must be answered within 5 s


class Actor:
    """Who clicked: the Teams user of an invoke or message."""

    __slots__ = ("teams_user_id", "aad_object_id", "locale")

    def __init__(
        self, teams_user_id: str, aad_object_id: str | None = None, locale: str = "en-US"
    ) -> None:
        self.teams_user_id = teams_user_id
        self.aad_object_id = aad_object_id
        self.locale = locale or "en-US"


class InteractionService:
    """Public API used by the HTTP handlers, the Teams handlers and other components."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        directory: CrmDirectory,
        sync: CardSync,
        settings: Settings,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions or sessions
        self._directory = directory
        self._settings = settings
        self._sync = sync
        self.catalog = CrmCatalog(self._adapter)
        # Called inside the transaction that stores each interaction event (workers enqueue
        # their jobs there, so a job exists exactly when its event does).
        self.event_hooks: list[EventHook] = []
        self._locks: dict[str, asyncio.Lock] = {}
        self._labels: dict[str, str] = {}
        sync.bind(self)

    # ------------------------------------------------------------------ events

    async def handle_event(self, event: InteractionEvent) -> InteractionStateOut:
        """Store an event and bring the card up to date.

        Raises ``NotFoundError`` for an unknown interaction or configuration and
        ``ConflictError`` (after storing the event) when the agent has not installed the app.
        """
        if event.type in ("started", "transferred") and event.agent is None:
            raise InputError(f"agent is required on {event.type}", field="agent")
        config_id = (
            await self._directory.resolve_id(event.configuration_id)
            if event.type == "started"
            else None
        )
        async with self._lock(event.interaction_id):
            try:
                outcome = await self._store_event(event, config_id)
            except IntegrityError:  # the eventId was seen before
                return await self._duplicate(event)
        state, waiting, posts = outcome
        if posts:
            self._sync.own_post(state.interaction_id)
        self._sync.schedule(state.interaction_id)
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
                row = _new_interaction(event, config_id or "")
            else:
                records = await store.records_of(session, row.id)
            _apply_event(row, event, stored.occurred_at, self._settings.default_phone_region)
            posts = False
            if event.type in ("started", "transferred") and event.agent is not None:
                await self._assign(session, row, event)
                posts = _claim_post(row)
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
            for hook in self.event_hooks:
                await hook(session, row, stored)
        return _state_out(row, records), row.delivery_pending, posts

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
        return _state_out(row, records)

    # ---------------------------------------------------------- installations

    async def deliver_pending(self, installation: InstallationRow) -> int:
        """Assign interactions that waited for this agent's install; returns how many."""
        async with self._sessions() as session, session.begin():
            rows = await store.pending_for(session, installation)
            for row in rows:
                row.installation_id = installation.id
                row.delivery_pending = False
                row.locale = installation.locale
                _claim_post(row)
        for row in rows:
            self._sync.own_post(row.id)
            self._sync.schedule(row.id)
        return len(rows)

    async def active_interaction(self, teams_user_id: str) -> str | None:
        """The id of the agent's newest open interaction, if any."""
        async with self._sessions() as session:
            installation = await store.installation_by_user(session, teams_user_id)
            if installation is None:
                return None
            row = await store.active_interaction_of(session, installation.id)
            return row.id if row else None

    # ------------------------------------------------------------ the card

    async def lookup(
        self, interaction_id: str, row: InteractionRow | None = None
    ) -> CardState | None:
        """Run the configuration's start-up steps once (default: look the caller up and pin a
        single match); several matches are listed in Related.

        ``row`` is the interaction as the caller just read it (saves reading it again).
        Returns the interaction and its records as committed by the look-up (history
        empty: the caller has it), or None when there was nothing to look up."""
        if row is None:
            async with self._sessions() as session:
                row = await session.get(InteractionRow, interaction_id)
        if row is None or row.match_outcome != "unsearched":
            return None
        result = StartupResult()
        error: AppError | None = None
        steps: Sequence[Any] = ()
        try:
            adapter = await self._adapter(row.configuration_id)
            steps = await self._directory.startup_steps(row.configuration_id)
            # The record types (for Create) load alongside the search, not after it.
            found: StartupResult | BaseException
            found, _ = await asyncio.gather(
                self._crm(run_startup(steps, adapter, interaction_data(row))),
                self._crm(self.catalog.record_types(row.configuration_id)),
                return_exceptions=True,
            )
            if isinstance(found, BaseException):
                raise found
            result = found
        except CrmError as exc:
            log.warning("Caller look-up for %s failed: %s", interaction_id, exc.code)
            error = exc
        outcome = "none" if error is not None else "one" if result.current else result.outcome
        async with self._lock(interaction_id):
            async with self._sessions() as session, session.begin():
                if not await store.claim_lookup(session, interaction_id, outcome):
                    return None  # gone, or another look-up wrote first
                records = await store.records_of(session, interaction_id)
                if error is None:
                    origin = "created" if result.created else "match"
                    new: list[InteractionRecordRow] = []
                    await store.add_records(
                        session,
                        interaction_id,
                        "current",
                        origin,
                        result.current,
                        rows=records,
                        pending=new,
                    )
                    # a pinned match stays listed in Related, so unpinning keeps it at hand
                    await store.add_records(
                        session,
                        interaction_id,
                        "related",
                        "match",
                        [*result.current, *result.related],
                        rows=records,
                        pending=new,
                    )
                    await store.insert_records(session, new)
            self._sync.committed(interaction_id)
        if error is not None:
            self._sync.note(interaction_id, Notice(level="error", key=error.code))
        set_committed_value(row, "match_outcome", outcome)
        if len(result.current) == 1 and not any(isinstance(step, RelatedStep) for step in steps):
            # after the first card: on SQLite its write waits behind waiting ones
            with background_writes():  # (the task keeps this context)
                self._sync.spawn(
                    self._add_related(interaction_id, row.configuration_id, result.current[0])
                )
        return CardState(row, records, ())

    async def _add_related(self, interaction_id: str, config_id: str, record: CrmRecord) -> None:
        try:
            adapter = await self._adapter(config_id)
            related = await self._crm(adapter.related(record, limit=10))
        except CrmError as exc:
            log.info("Related records for %s unavailable: %s", interaction_id, exc.code)
            return
        if related:
            await self.show_records(interaction_id, related=related, known=True)

    async def render(
        self, interaction_id: str, perspective: Perspective, state: CardState | None = None
    ) -> dict[str, Any]:
        """The card JSON for ``interaction_id`` as ``perspective`` sees it; from ``state``
        when the caller has just read (or written) it, else read now."""
        if state is None:
            async with self._sessions() as session:
                row = await store.interaction_or_404(session, interaction_id)
                state = await self.card_state(session, row)
        context = await self._context(state)
        return self._sync.build_card(
            build_view(state.row, context, perspective),
            universal_actions=perspective.universal_actions,
        )

    async def card_state(
        self,
        session: AsyncSession,
        row: InteractionRow,
        records: Sequence[InteractionRecordRow] | None = None,
    ) -> CardState:
        """The interaction's records (unless given, as just read in ``session``), history
        and whether a CRM write of it failed, read in ``session``."""
        if records is None:
            records = await store.records_of(session, row.id)
        failed = row.memorialization_queued and bool(await failed_for_interaction(session, row.id))
        return CardState(
            row, records, await store.history_of(session, row), memorialization_failed=failed
        )

    async def _context(self, state: CardState) -> CardContext:
        row, records = state.row, state.records
        config = row.configuration_id
        types = self.catalog.cached_types(config) or []
        type_names = {r.record_type for r in records}
        mapping = await self._directory.card_mapping(config)
        return CardContext(
            records=records,
            history=state.history,
            memorialization_failed=state.memorialization_failed,
            crm_label=self._labels.get(config, ""),
            type_labels={t.name: t.label for t in types},
            create_types=[TypeChoice(name=t.name, label=t.label) for t in types if t.createable],
            field_meta={
                name: meta
                for name in type_names
                if (meta := self.catalog.cached_fields(config, name)) is not None
            },
            card_fields={name: mapping.fields_for(name) for name in type_names}
            if mapping is not None
            else {},
        )

    # ---------------------------------------------------------- agent actions

    async def refresh(self, interaction_id: str, actor: Actor) -> dict[str, Any]:
        return await self._act(interaction_id, actor, None)

    async def pin(
        self, interaction_id: str, actor: Actor, record_type: str, record_id: str
    ) -> dict[str, Any]:
        """Pin a record to Current; answers with the updated card (also PUT to the chat)."""

        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            known = next(
                (r for r in records if r.record_type == record_type and r.record_id == record_id),
                None,
            )
            if known is not None:
                record = store.record_from_row(known)
            else:
                adapter = await self._adapter(row.configuration_id)
                record = await self._crm(adapter.get(record_type, record_id))
            await store.add_records(session, row.id, "current", "pinned", [record], rows=records)
            return None

        return await self._act(interaction_id, actor, mutate)

    async def unpin(
        self, interaction_id: str, actor: Actor, record_type: str, record_id: str
    ) -> dict[str, Any]:
        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            await store.remove_record(
                session, row.id, "current", record_type, record_id, rows=records
            )
            return None

        return await self._act(interaction_id, actor, mutate)

    async def search(self, interaction_id: str, actor: Actor, text: str) -> dict[str, Any]:
        """Search the CRM; results replace the last search's in Related."""
        text = text.strip()[:200]

        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            if not text:
                return Notice(level="warning", key="invalid_input")
            adapter = await self._adapter(row.configuration_id)
            found = await self._crm(adapter.search(_text_query(text, self._settings)))
            await store.replace_related(session, row.id, "search", rows=records)
            await store.add_records(session, row.id, "related", "search", found, rows=records)
            row.search_query = text
            return None if found else Notice(level="info", key="search_no_results")

        return await self._act(interaction_id, actor, mutate)

    async def more(self, interaction_id: str, actor: Actor) -> dict[str, Any]:
        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            row.related_shown += 1
            return None

        return await self._act(interaction_id, actor, mutate)

    async def show_records(
        self,
        interaction_id: str,
        *,
        current: Sequence[CrmRecord] = (),
        related: Sequence[CrmRecord] = (),
        known: bool = False,
    ) -> None:
        """Add records to Current and/or Related (workflow results) and update the card.
        ``known``: the interaction is known to exist (no look-up for a 404 first)."""
        async with self._changing(interaction_id) as session:
            if not known:
                await store.interaction_or_404(session, interaction_id, field="interactionId")
            records = await store.records_of(session, interaction_id)
            if current:
                await store.add_records(
                    session, interaction_id, "current", "pinned", current, rows=records
                )
            if related:
                await store.add_records(
                    session, interaction_id, "related", "related", related, rows=records
                )

    async def search_records(
        self, text: str, configuration_id: str | None = None, limit: int = 10
    ) -> list[CrmRecord]:
        """A CRM search outside any interaction (message extension, ``search`` command)."""
        config_id = await self._directory.resolve_id(configuration_id)
        adapter = await self._adapter(config_id)
        query = _text_query(text.strip()[:200], self._settings)
        query.limit = limit
        return await self._crm(adapter.search(query))

    # ------------------------------------------------------------ forms

    async def create_form(
        self,
        interaction_id: str,
        actor: Actor,
        record_type: str,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        error: str = "",
    ) -> FormView:
        row = await self._assigned_row(interaction_id, actor)
        types = {
            t.name: t for t in await self._crm(self.catalog.record_types(row.configuration_id))
        }
        if record_type not in types or not types[record_type].createable:
            raise InputError(f"Cannot create records of type {record_type!r}", field="createType")
        fields = create_fields(
            list((await self._crm(self.catalog.fields(row.configuration_id, record_type))).values())
        )
        return FormView(
            mode="create",
            interaction_id=interaction_id,
            locale=actor.locale,
            record_type=record_type,
            type_label=types[record_type].label,
            fields=form_view_fields(fields, values or {}, errors),
            error=error,
        )

    async def submit_create(
        self, interaction_id: str, actor: Actor, record_type: str, submitted: dict[str, Any]
    ) -> FormView | CrmRecord:
        """Create the record and pin it; or the form again with the errors shown."""
        row = await self._assigned_row(interaction_id, actor)
        meta = await self._crm(self.catalog.fields(row.configuration_id, record_type))
        fields = create_fields(list(meta.values()))
        values, errors = parse_submission(fields, submitted, _translator(actor.locale))
        if errors:
            return await self.create_form(
                interaction_id, actor, record_type, values=submitted, errors=errors
            )
        adapter = await self._adapter(row.configuration_id)
        try:
            record = await self._crm(adapter.create(record_type, values), DIALOG_SECONDS)
        except CrmError as exc:
            return await self.create_form(
                interaction_id,
                actor,
                record_type,
                values=submitted,
                error=translate(actor.locale, exc.code),
            )
        async with self._changing(interaction_id) as session:
            await store.add_records(session, interaction_id, "current", "created", [record])
        return record

    async def edit_form(
        self, interaction_id: str, actor: Actor, record_type: str, record_id: str
    ) -> FormView:
        row = await self._assigned_row(interaction_id, actor)
        adapter = await self._adapter(row.configuration_id)
        fields, record = await self._edit_fields(row, adapter, record_type, record_id)
        return self._edit_view(row, actor, record_type, record_id, fields, record.fields)

    async def submit_edit(
        self,
        interaction_id: str,
        actor: Actor,
        record_type: str,
        record_id: str,
        submitted: dict[str, Any],
    ) -> FormView | CrmRecord:
        row = await self._assigned_row(interaction_id, actor)
        adapter = await self._adapter(row.configuration_id)
        fields, _ = await self._edit_fields(row, adapter, record_type, record_id)
        values, errors = parse_submission(
            fields, submitted, _translator(actor.locale), clear_empty=True
        )
        if errors:  # the form again, from what was just read
            return self._edit_view(
                row, actor, record_type, record_id, fields, submitted, errors=errors
            )
        try:
            record = await self._crm(adapter.update(record_type, record_id, values), DIALOG_SECONDS)
        except CrmError as exc:
            return self._edit_view(
                row,
                actor,
                record_type,
                record_id,
                fields,
                submitted,
                error=translate(actor.locale, exc.code),
            )
        async with self._changing(interaction_id) as session:
            await _refresh_snapshot(session, interaction_id, record)
        return record

    def _edit_view(
        self,
        row: InteractionRow,
        actor: Actor,
        record_type: str,
        record_id: str,
        fields: list[Any],
        values: dict[str, Any],
        *,
        errors: dict[str, str] | None = None,
        error: str = "",
    ) -> FormView:
        types = {t.name: t.label for t in self.catalog.cached_types(row.configuration_id) or []}
        return FormView(
            mode="edit",
            interaction_id=row.id,
            locale=actor.locale,
            record_type=record_type,
            type_label=types.get(record_type, record_type),
            record_id=record_id,
            fields=form_view_fields(fields, values, errors),
            error=error,
        )

    async def _edit_fields(
        self, row: InteractionRow, adapter: CrmAdapter, record_type: str, record_id: str
    ) -> tuple[list[Any], CrmRecord]:
        record = await self._crm(adapter.get(record_type, record_id))
        meta = await self._crm(self.catalog.fields(row.configuration_id, record_type))
        configured = await self._directory.card_fields(row.configuration_id, record_type)
        # no ``record``: the form keeps the fields the card leaves out as repeats of the
        # title (a contact's first and last name)
        shown = choose_card_fields(record.fields, configured=configured, meta=meta)
        return edit_fields(list(meta.values()), shown), record

    # ------------------------------------------------------------ helpers

    async def _assigned_row(self, interaction_id: str, actor: Actor) -> InteractionRow:
        async with self._read_sessions() as session:
            row, installation = await store.interaction_and_installation(session, interaction_id)
        reason = _read_only_reason(row, installation, actor)
        if reason:
            raise _NotAssignedError(reason)
        return row

    async def _act(
        self, interaction_id: str, actor: Actor, mutate: Mutation | None
    ) -> dict[str, Any]:
        """Run ``mutate`` for the assigned agent and answer with the card as they now see it;
        anyone else gets a read-only view and nothing changes."""
        notice: Notice | None = None
        async with self._lock(interaction_id):
            async with self._sessions() as session, session.begin():
                row, installation = await store.interaction_and_installation(
                    session, interaction_id
                )
                reason = _read_only_reason(row, installation, actor)
                records = await store.records_of(session, row.id)
                if not reason and mutate is not None:
                    try:
                        notice = await mutate(session, row, records)
                    except CrmError as exc:
                        notice = Notice(level="error", key=exc.code)
                # read in the same transaction, after any change: the answer needs no
                # second session
                state = await self.card_state(session, row, records)
            changed = self._sync.committed(interaction_id) if mutate is not None else 0
        if reason:
            return await self.render(
                interaction_id,
                Perspective(
                    locale=actor.locale,
                    read_only_reason=reason,
                    notices=(Notice(level="warning", key=reason),),
                ),
                state,
            )
        assert installation is not None  # not read-only: the actor is its agent
        perspective = Perspective(
            locale=actor.locale,
            refresh_user_id=actor.teams_user_id,
            notices=(notice,) if notice else (),
            universal_actions=has_universal_actions(installation.reference),
        )
        card = await self.render(interaction_id, perspective, state)
        if mutate is not None:
            # The stored message shows the same card when the agent's view of it is the
            # one just drawn: then it is PUT as it is, not read and drawn again.
            same = (
                notice is None
                and row.card_activity_id is not None
                and (installation.locale or row.locale) == actor.locale
                and self._sync.note_of(interaction_id) is None
            )
            self._sync.schedule(
                interaction_id,
                PreparedCard(
                    card=card,
                    reference=installation.reference,
                    activity_id=row.card_activity_id or "",
                    change=changed,
                )
                if same
                else None,
            )
        return card

    async def _adapter(self, configuration_id: str) -> CrmAdapter:
        adapter = await self._directory.adapter(configuration_id)
        self._labels[configuration_id] = adapter.system.label
        return adapter

    async def _crm(self, call: Awaitable[Any], seconds: float | None = None) -> Any:
        """A CRM call bounded by the configured timeout (Teams waits 15 s at most)."""
        limit = min(self._settings.crm_timeout_seconds, seconds or 12.0)
        try:
            async with asyncio.timeout(limit):
                return await call
        except TimeoutError:
            raise CrmUnavailableError(
                f"CRM call took longer than {limit}s", timed_out=True
            ) from None

    @contextlib.asynccontextmanager
    async def _changing(self, interaction_id: str) -> AsyncIterator[AsyncSession]:
        """A transaction that changes what the interaction's card shows, under the
        interaction's lock; once it is committed the posted card is brought up to date
        (``schedule`` counts the change)."""
        async with self._lock(interaction_id):
            async with self._sessions() as session, session.begin():
                yield session
        self._sync.schedule(interaction_id)

    def _lock(self, interaction_id: str) -> asyncio.Lock:
        # One writer per interaction at a time; card updates are coalesced by CardSync.
        return self._locks.setdefault(interaction_id, asyncio.Lock())


class _NotAssignedError(ConflictError):
    code = "not_assigned"
    http_status = 403

    def __init__(self, reason: str) -> None:
        super().__init__(f"Card is read-only: {reason}", code=reason)


def _read_only_reason(
    row: InteractionRow, installation: InstallationRow | None, actor: Actor
) -> str:
    if row.state in CLOSED_STATES:
        return "closed"
    if installation is not None and installation.teams_user_id == actor.teams_user_id:
        return ""
    if any(card.get("teamsUserId") == actor.teams_user_id for card in row.previous_cards):
        return "transferred"
    return "not_assigned"


async def _refresh_snapshot(session: AsyncSession, interaction_id: str, record: CrmRecord) -> None:
    """The record's snapshot in every section it is shown in."""
    rows = await store.records_of(session, interaction_id)
    for section in ("current", "related"):
        if any(
            r.section == section and r.record_type == record.type and r.record_id == record.id
            for r in rows
        ):
            await store.add_records(session, interaction_id, section, "pinned", [record], rows=rows)


def _claim_post(row: InteractionRow) -> bool:
    """When the interaction's card is due (assigned to an installed agent, not posted),
    this process posts it: the lease keeps other processes from posting it too."""
    if row.installation_id is None or row.card_activity_id:
        return False
    row.card_posting_until = datetime.now(UTC) + timedelta(seconds=POST_LEASE_SECONDS)
    return True


def _state_out(row: InteractionRow, records: Sequence[InteractionRecordRow]) -> InteractionStateOut:
    card = (
        "waiting_for_install"
        if row.delivery_pending
        else "posted"
        if row.card_activity_id
        else "pending"
    )
    outs: dict[str, list[RecordOut]] = {"current": [], "related": []}
    for record in records:
        outs[record.section].append(
            RecordOut(
                type=record.record_type,
                id=record.record_id,
                title=record.title,
                url=record.url,
                origin=record.origin,
                fields=dict((record.fields or {}).get("fields", {})),
            )
        )
    return InteractionStateOut(
        interaction_id=row.id,
        state=row.state,
        channel=row.channel,
        configuration_id=row.configuration_id,
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        card=card,
        match_outcome=row.match_outcome,  # type: ignore[arg-type]
        current=outs["current"],
        related=outs["related"],
    )


def _translator(locale: str) -> Callable[..., str]:
    return lambda key, **params: translate(locale, key, **params)


def _new_interaction(event: InteractionEvent, config_id: str) -> InteractionRow:
    return InteractionRow(
        id=event.interaction_id,
        configuration_id=config_id,
        contact_id=event.contact_id,
        master_contact_id=event.master_contact_id,
        channel=event.channel,
        state="started",
        data={},
        script_variables={},
        previous_cards=[],
        match_outcome="unsearched",
        search_query="",
        related_shown=0,
        delivery_pending=False,
        started_at=event.occurred_at or datetime.now(UTC),
    )


def _apply_event(row: InteractionRow, event: InteractionEvent, at: datetime, region: str) -> None:
    row.data = {**(row.data or {}), **event.data}
    row.script_variables = {
        **(row.script_variables or {}),
        **{k.lower(): v for k, v in event.script_variables.items()},
    }
    if event.contact_id:
        row.contact_id = event.contact_id
    if event.master_contact_id:
        row.master_contact_id = event.master_contact_id
    row.skill = str(row.data.get("Skill Name") or row.skill or "")
    customer = _customer_address(row.channel, row.data)
    if customer and customer != row.customer:
        row.customer = customer
        row.customer_key = _customer_key(row.channel, customer, region)
    # an update after the end keeps the end state
    if event.type != "updated" or row.state in ("started", "updated", "transferred"):
        row.state = event.type
    if event.type == "ended":
        row.ended_by = event.ended_by
        row.ended_at = at


def _customer_address(channel: str, data: dict[str, Any]) -> str:
    keys = ("ANI",) if channel == "voice" else ("From", "Email", "Customer Email")
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _customer_key(channel: str, address: str, region: str) -> str:
    if channel == "voice":
        variants = phone_variants(address, region)
        return variants.e164 or (variants[0] if variants else "")
    return address.lower()


def _text_query(text: str, settings: Settings) -> TextSearch | EmailSearch | PhoneSearch:
    """Free text from an agent: an address searches email, a number searches phones."""
    if "@" in text and " " not in text:
        return EmailSearch(email=text, limit=SEARCH_LIMIT)
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 5 and all(ch.isdigit() or ch in "+-() /." for ch in text):
        return PhoneSearch(number=text, limit=SEARCH_LIMIT)
    return TextSearch(text=text, limit=SEARCH_LIMIT)
