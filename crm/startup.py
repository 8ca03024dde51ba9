"""What runs when an interaction starts: an ordered list of steps (data) and their runner.

A configuration stores its steps; without any, :data:`DEFAULT_STARTUP` applies: search by
ANI (voice) or sender email (digital), pin a single match. Steps, in the order given:

``search``          look the caller up (``by``: ``auto``, ``phone`` or ``email``)
``pin_single``      exactly one match: put it into Current Interaction
``create_if_none``  the search found nothing: create a record from interaction data and pin it
``related``         add records related to the pinned ones (same account, open cases)
``cache``           keep the results with the interaction (transfers reuse them, no new search)

The bot core calls :func:`run_startup` and shows the result on the card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import InputError
from .interaction_data import InteractionData, fill_template
from .models import CrmRecord, EmailSearch, PhoneSearch
from .protocol import CrmAdapter

__all__ = [
    "SearchStep",
    "PinSingleStep",
    "CreateIfNoneStep",
    "RelatedStep",
    "CacheStep",
    "StartupStep",
    "DEFAULT_STARTUP",
    "StartupResult",
    "check_startup_steps",
    "run_startup",
]


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class SearchStep(_Step):
    step: Literal["search"] = "search"
    by: Literal["auto", "phone", "email"] = "auto"
    record_types: list[str] | None = Field(default=None, alias="recordTypes")
    limit: int = Field(default=25, ge=1, le=100)


class PinSingleStep(_Step):
    step: Literal["pin_single"] = "pin_single"


class CreateIfNoneStep(_Step):
    step: Literal["create_if_none"] = "create_if_none"
    record_type: str = Field(alias="recordType", min_length=1)
    # CRM field -> template, e.g. {"phone": "{ANI}", "last_name": "Caller {ANI}"}
    fields: dict[str, str] = Field(min_length=1)


class RelatedStep(_Step):
    step: Literal["related"] = "related"
    limit: int = Field(default=5, ge=1, le=25)


class CacheStep(_Step):
    step: Literal["cache"] = "cache"


StartupStep = Annotated[
    SearchStep | PinSingleStep | CreateIfNoneStep | RelatedStep | CacheStep,
    Field(discriminator="step"),
]

DEFAULT_STARTUP: tuple[SearchStep | PinSingleStep, ...] = (SearchStep(), PinSingleStep())


def check_startup_steps(steps: list[StartupStep], name: str = "startup") -> None:
    """Steps that act on a search result need a search before them; each step once.
    ``name``: the list's field in the caller's input (errors name ``<name>[index]``)."""
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if step.step in seen:
            raise InputError(
                f"{name}[{index}]: step '{step.step}' is listed twice",
                code="invalid_startup",
                field=f"{name}[{index}]",
            )
        if step.step in ("pin_single", "create_if_none") and "search" not in seen:
            raise InputError(
                f"{name}[{index}]: '{step.step}' acts on a search result; put a 'search' "
                "step before it",
                code="invalid_startup",
                field=f"{name}[{index}]",
            )
        seen.add(step.step)


@dataclass
class StartupResult:
    """Records for the card: ``current`` (pinned), ``related`` (found, not pinned), the
    search ``outcome``, whether a record was ``created``, and whether to ``cache``."""

    current: list[CrmRecord] = field(default_factory=list)
    related: list[CrmRecord] = field(default_factory=list)
    outcome: Literal["one", "several", "none"] = "none"
    created: bool = False
    cache: bool = False


@dataclass
class _Run:
    found: list[CrmRecord] | None = None  # None: no search ran
    result: StartupResult = field(default_factory=StartupResult)


async def run_startup(
    steps: list[StartupStep] | tuple[StartupStep, ...] | None,
    adapter: CrmAdapter,
    context: InteractionData,
) -> StartupResult:
    """Run ``steps`` (the default when ``None`` or empty) for one starting interaction.
    CRM errors propagate as ``CrmError``; the caller decides how the card shows them."""
    run = _Run()
    for step in steps or DEFAULT_STARTUP:
        if isinstance(step, SearchStep):
            run.found = await _search(step, adapter, context)
        elif isinstance(step, PinSingleStep):
            if run.found is not None and len(run.found) == 1:
                _add(run.result.current, run.found[0])
        elif isinstance(step, CreateIfNoneStep):
            if run.found == []:
                created = await _create(step, adapter, context)
                if created is not None:
                    _add(run.result.current, created)
                    run.result.created = True
        elif isinstance(step, RelatedStep):
            for record in list(run.result.current):
                for other in await adapter.related(record, limit=step.limit):
                    _add(run.result.related, other)
        elif isinstance(step, CacheStep):
            run.result.cache = True
    found = run.found or []
    run.result.outcome = "none" if not found else "one" if len(found) == 1 else "several"
    pinned = {(r.type, r.id) for r in run.result.current}
    searched = [r for r in found if (r.type, r.id) not in pinned]
    others = [r for r in run.result.related if (r.type, r.id) not in pinned]
    run.result.related = []
    for record in searched + others:
        _add(run.result.related, record)
    return run.result


def _add(records: list[CrmRecord], record: CrmRecord) -> None:
    if all((r.type, r.id) != (record.type, record.id) for r in records):
        records.append(record)


async def _search(
    step: SearchStep, adapter: CrmAdapter, context: InteractionData
) -> list[CrmRecord]:
    by = step.by
    if by == "auto":
        by = "phone" if context.channel == "voice" else "email"
    if by == "phone":
        number = context.ani
        if not number:
            return []
        return await adapter.search(
            PhoneSearch(number=number, record_types=step.record_types, limit=step.limit)
        )
    email = context.email
    if not email:
        return []
    return await adapter.search(
        EmailSearch(email=email, record_types=step.record_types, limit=step.limit)
    )


async def _create(
    step: CreateIfNoneStep, adapter: CrmAdapter, context: InteractionData
) -> CrmRecord | None:
    values: dict[str, str] = {}
    for name, template in step.fields.items():
        try:
            value = fill_template(template, context, field=name)
        except InputError:
            continue  # this interaction lacks the data (e.g. no customer name on a call)
        if value.strip():
            values[name] = value
    if not values:
        return None
    return await adapter.create(step.record_type, values)
