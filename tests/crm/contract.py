"""The contract every CRM adapter (and the demo CRM) must pass.

A CRM's test module subclasses ``CrmContract`` as ``TestXxxContract`` and provides an async
``harness`` fixture (``tests.crm.harness.Harness``) whose adapter talks to a simulator seeded
with ``tests.crm.dataset.PEOPLE``. The base class has no ``Test`` prefix, so pytest collects it
only through the subclasses.

What the suite expects of a harness:

* ``new_contact`` / ``new_case`` values round-trip unchanged: after ``create`` a ``get`` shows
  each of them in ``record.fields`` under the same key.
* ``updatable_contact_field`` is a plain text field of the contact type that ``update`` may
  change and a dynamic search may filter on (equals / notequals).
* ``list_fields`` of the contact type marks at least one field ``required`` that ``create``
  enforces (else the case type must), so the create form and the suite know what is needed.
* ``timeline_for`` returns the simulator's activities linked to a record, newest or oldest
  first, and ``stored`` the simulator's raw record (``None`` when it does not exist).

A CRM whose ids have a shape the generic "unknown id" guess below does not fit overrides
``unknown_id``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlparse

import pytest
from pydantic import ValidationError

from crm.config import settings_model
from crm.errors import CrmNotFoundError, CrmRejectedError
from crm.http import observing_responses
from crm.models import (
    Condition,
    CrmRecord,
    DynamicSearch,
    EmailSearch,
    FieldType,
    IdSearch,
    PhoneSearch,
    RecordWrite,
    TextSearch,
    TimelineActivity,
)

from .dataset import (
    ANI_NO_MATCH,
    ANI_ONE_MATCH,
    ANI_SECOND_ENTRY,
    ANI_TWO_MATCHES,
    FOREIGN_CALLERS,
    HOSTILE_INPUTS,
    PEOPLE,
    STORED_FORMS,
    national_form,
)
from .harness import Harness

__all__ = ["CrmContract"]

_ANNA = PEOPLE[0]
_MARIA = PEOPLE[2]


def _titles(records: list[CrmRecord]) -> list[str]:
    return sorted(record.title for record in records)


def _dumped(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _assert_absolute_url(url: str) -> None:
    parts = urlparse(url)
    assert parts.scheme in {"http", "https"}, url
    assert parts.netloc, url


def _mutated_id(known_id: str) -> str:
    """An id shaped like ``known_id`` that no seeded record has: the prefix is kept (some
    CRMs encode the type there), the rest is rewritten to 9s and Fs; all-digit ids grow."""
    if known_id.isdigit():
        return str(int(known_id) + 7_000_000)
    keep = len(known_id) // 2
    tail = []
    for ch in known_id[keep:]:
        if ch.isdigit():
            tail.append("9")
        elif ch.lower() in "abcdef":
            tail.append("f" if ch.islower() else "F")
        elif ch.isalpha():
            tail.append("z" if ch.islower() else "Z")
        else:
            tail.append(ch)
    candidate = known_id[:keep] + "".join(tail)
    return candidate if candidate != known_id else known_id[:keep] + "0" * (len(known_id) - keep)


class CrmContract:
    """Shared behaviour tests; subclasses provide the ``harness`` fixture."""

    # --- helpers subclasses may override ---------------------------------------------------

    def unknown_id(self, harness: Harness, known_id: str) -> str:
        """A well-formed id of the contact type that does not exist in the simulator."""
        return _mutated_id(known_id)

    async def _anna(self, harness: Harness) -> CrmRecord:
        found = await harness.adapter.search(
            PhoneSearch(number=ANI_ONE_MATCH, record_types=[harness.contact_type])
        )
        assert len(found) == 1, _titles(found)
        return found[0]

    async def _created_contact(self, harness: Harness, marker: str) -> CrmRecord:
        fields = dict(harness.new_contact)
        fields[harness.updatable_contact_field] = marker
        return await harness.adapter.create(harness.contact_type, fields)

    # --- system and health -----------------------------------------------------------------

    async def test_system_names_the_crm(self, harness: Harness) -> None:
        system = harness.adapter.system
        assert system.type and system.label
        _assert_absolute_url(system.base_url)

    async def test_check_succeeds_against_a_healthy_crm(self, harness: Harness) -> None:
        await harness.adapter.check()

    # --- settings (issue #14): the vendor's documented bounds ------------------------------

    async def test_settings_refuse_values_outside_the_vendors_bounds(
        self, harness: Harness
    ) -> None:
        """A value the vendor would refuse at run time is refused when it is configured."""
        assert harness.settings_bounds, "the harness names no bounded setting"
        model = settings_model(harness.adapter.system.type)

        def problems(name: str, value: Any) -> list[str]:
            try:
                model.model_validate({name: value})
            except ValidationError as exc:
                return [str(e["loc"][0]) for e in exc.errors() if e["loc"]]
            return []

        for name, (accepted, refused) in harness.settings_bounds.items():
            assert name not in problems(name, accepted), (name, accepted)
            for value in refused:
                assert name in problems(name, value), (name, value)

    # --- phone search ----------------------------------------------------------------------

    async def test_phone_search_finds_the_one_caller(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        assert _ANNA.first_name in anna.title and _ANNA.last_name in anna.title
        assert anna.type == harness.contact_type

    async def test_phone_search_with_default_types_finds_the_caller(self, harness: Harness) -> None:
        found = await harness.adapter.search(PhoneSearch(number=ANI_ONE_MATCH))
        people = [record for record in found if record.type == harness.contact_type]
        assert [_ANNA.last_name in record.title for record in people] == [True]

    async def test_phone_search_finds_both_people_sharing_a_number(self, harness: Harness) -> None:
        found = await harness.adapter.search(
            PhoneSearch(number=ANI_TWO_MATCHES, record_types=[harness.contact_type])
        )
        assert len(found) == 2, _titles(found)
        assert all("Fischer" in record.title for record in found)
        assert any("Lena" in record.title for record in found), _titles(found)
        assert any("Paul" in record.title for record in found), _titles(found)

    async def test_phone_search_for_an_unknown_number_finds_nothing(self, harness: Harness) -> None:
        found = await harness.adapter.search(PhoneSearch(number=ANI_NO_MATCH))
        assert found == []

    async def test_a_search_over_several_types_skips_a_type_the_crm_lacks(
        self, harness: Harness
    ) -> None:
        """An org without one of the searched types (Dynamics without the Sales app has no
        ``lead``) still finds the caller in the others; the missing type is skipped."""
        types = [harness.missing_type, harness.contact_type]
        found = await harness.adapter.search(PhoneSearch(number=ANI_ONE_MATCH, record_types=types))
        assert [_ANNA.last_name in record.title for record in found] == [True], _titles(found)
        found = await harness.adapter.search(TextSearch(text="Fischer", record_types=types))
        assert len(found) == 2, _titles(found)
        found = await harness.adapter.search(EmailSearch(email=_ANNA.email, record_types=types))
        assert len(found) == 1, _titles(found)

    async def test_phone_search_accepts_a_national_form(self, harness: Harness) -> None:
        found = await harness.adapter.search(
            PhoneSearch(number="030 1234567", record_types=[harness.contact_type])
        )
        assert len(found) == 1 and _ANNA.last_name in found[0].title

    # --- phone matching (issue #14): stored forms, foreign callers, every phone entry -------

    async def _contact_with_phones(self, harness: Harness, *numbers: str) -> CrmRecord:
        assert all(harness.phone_fields), "the harness names no phone fields"
        fields = {k: v for k, v in harness.new_contact.items() if "@" not in v}  # unique emails
        fields.update(zip(harness.phone_fields, numbers, strict=False))
        return await harness.adapter.create(harness.contact_type, fields)

    async def _found_ids(self, harness: Harness, number: str) -> list[str]:
        found = await harness.adapter.search(
            PhoneSearch(number=number, record_types=[harness.contact_type])
        )
        return [record.id for record in found]

    async def test_phone_search_finds_every_stored_form(self, harness: Harness) -> None:
        created = {
            e164: (stored, await self._contact_with_phones(harness, stored))
            for stored, e164 in STORED_FORMS
        }
        missed = []
        for e164, (stored, record) in created.items():
            for ani in (e164, national_form(e164)):
                if await self._found_ids(harness, ani) != [record.id]:
                    missed.append((stored, ani))
        assert missed == [], f"stored forms not found exactly (stored, ANI): {missed}"

    async def test_a_foreign_caller_never_gets_a_local_record(self, harness: Harness) -> None:
        for stored, _ in STORED_FORMS:
            await self._contact_with_phones(harness, stored)
        wrong = {}
        for ani in FOREIGN_CALLERS:
            found = await harness.adapter.search(PhoneSearch(number=ani))
            found += await harness.adapter.search(
                PhoneSearch(number=ani, record_types=[harness.contact_type])
            )
            if found:
                wrong[ani] = _titles(found)
        assert wrong == {}, wrong

    async def test_phone_search_finds_a_record_by_each_phone_entry(self, harness: Harness) -> None:
        record = await self._contact_with_phones(harness, "+49 40 5550120", "(0160) 5550121")
        assert await self._found_ids(harness, "+49405550120") == [record.id]
        assert await self._found_ids(harness, "+491605550121") == [record.id]
        assert await self._found_ids(harness, "01605550121") == [record.id]
        # a seeded person's second entry: Anna Schmidt's mobile, stored "0171 2345678"
        found = await harness.adapter.search(
            PhoneSearch(number=ANI_SECOND_ENTRY, record_types=[harness.contact_type])
        )
        assert [_ANNA.last_name in record.title for record in found] == [True], _titles(found)

    # --- email, text, id search ------------------------------------------------------------

    async def test_email_search_ignores_case(self, harness: Harness) -> None:
        found = await harness.adapter.search(
            EmailSearch(email=_ANNA.email.upper(), record_types=[harness.contact_type])
        )
        assert len(found) == 1, _titles(found)
        assert _ANNA.last_name in found[0].title

    async def test_text_search_finds_by_last_name(self, harness: Harness) -> None:
        found = await harness.adapter.search(
            TextSearch(text="Fischer", record_types=[harness.contact_type])
        )
        assert len(found) == 2, _titles(found)
        assert all("Fischer" in record.title for record in found)

    async def test_text_search_handles_an_apostrophe(self, harness: Harness) -> None:
        found = await harness.adapter.search(
            TextSearch(text=_MARIA.last_name, record_types=[harness.contact_type])
        )
        assert len(found) == 1, _titles(found)
        assert _MARIA.last_name in found[0].title

    async def test_search_respects_the_limit(self, harness: Harness) -> None:
        found = await harness.adapter.search(
            TextSearch(text="Fischer", record_types=[harness.contact_type], limit=1)
        )
        assert len(found) == 1

    async def test_id_search_finds_the_record(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        found = await harness.adapter.search(IdSearch(record_type=harness.contact_type, id=anna.id))
        assert [record.id for record in found] == [anna.id]

    async def test_id_search_for_an_unknown_id_finds_nothing(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        found = await harness.adapter.search(
            IdSearch(record_type=harness.contact_type, id=self.unknown_id(harness, anna.id))
        )
        assert found == []

    # --- dynamic search --------------------------------------------------------------------

    async def test_dynamic_search_equals_finds_the_record(self, harness: Harness) -> None:
        marker = f"Dyn {uuid.uuid4().hex[:8]}"
        created = await self._created_contact(harness, marker)
        found = await harness.adapter.search(
            DynamicSearch(
                record_type=harness.contact_type,
                conditions=[Condition(field=harness.updatable_contact_field, value=marker)],
            )
        )
        assert [record.id for record in found] == [created.id]

    async def test_dynamic_search_joins_with_or_and_and(self, harness: Harness) -> None:
        first, second = f"Or {uuid.uuid4().hex[:8]}", f"Or {uuid.uuid4().hex[:8]}"
        one = await self._created_contact(harness, first)
        two = await self._created_contact(harness, second)
        field = harness.updatable_contact_field
        either = await harness.adapter.search(
            DynamicSearch(
                record_type=harness.contact_type,
                join="or",
                conditions=[
                    Condition(field=field, value=first),
                    Condition(field=field, value=second),
                ],
            )
        )
        assert sorted(record.id for record in either) == sorted([one.id, two.id])
        only_first = await harness.adapter.search(
            DynamicSearch(
                record_type=harness.contact_type,
                join="and",
                conditions=[
                    Condition(field=field, value=first),
                    Condition(field=field, operator="notequals", value=second),
                ],
            )
        )
        assert [record.id for record in only_first] == [one.id]

    async def test_dynamic_search_on_an_unknown_field_is_rejected(self, harness: Harness) -> None:
        with pytest.raises(CrmRejectedError):
            await harness.adapter.search(
                DynamicSearch(
                    record_type=harness.contact_type,
                    conditions=[Condition(field="no_such_field_zz", value="x")],
                )
            )

    # --- hostile input ---------------------------------------------------------------------

    async def test_hostile_text_search_finds_nothing(self, harness: Harness) -> None:
        for value in HOSTILE_INPUTS:
            found = await harness.adapter.search(TextSearch(text=value))
            assert found == [], value

    async def test_hostile_phone_search_finds_nothing(self, harness: Harness) -> None:
        """The phone forms reach every query language; none may widen a search."""
        for value in [*HOSTILE_INPUTS, "030) OR (1=1", "%030%", "*1234567", "1234567*"]:
            found = await harness.adapter.search(PhoneSearch(number=value))
            assert found == [], (value, _titles(found))

    async def test_hostile_email_search_finds_nothing(self, harness: Harness) -> None:
        for value in HOSTILE_INPUTS:
            found = await harness.adapter.search(EmailSearch(email=value))
            assert found == [], value

    async def test_hostile_dynamic_value_finds_nothing(self, harness: Harness) -> None:
        for value in HOSTILE_INPUTS:
            found = await harness.adapter.search(
                DynamicSearch(
                    record_type=harness.contact_type,
                    conditions=[Condition(field=harness.updatable_contact_field, value=value)],
                )
            )
            assert found == [], value

    async def test_hostile_dynamic_field_is_rejected_or_finds_nothing(
        self, harness: Harness
    ) -> None:
        for value in HOSTILE_INPUTS:
            try:
                found = await harness.adapter.search(
                    DynamicSearch(
                        record_type=harness.contact_type,
                        conditions=[Condition(field=value, value="x")],
                    )
                )
            except CrmRejectedError:
                continue
            assert found == [], value

    # --- get, create, update ---------------------------------------------------------------

    async def test_get_returns_the_record_found_by_search(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        got = await harness.adapter.get(harness.contact_type, anna.id)
        assert (got.id, got.type, got.title) == (anna.id, anna.type, anna.title)

    async def test_get_of_an_unknown_id_raises_not_found(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        with pytest.raises(CrmNotFoundError):
            await harness.adapter.get(harness.contact_type, self.unknown_id(harness, anna.id))

    async def test_create_contact_then_get_returns_it(self, harness: Harness) -> None:
        created = await harness.adapter.create(harness.contact_type, harness.new_contact)
        got = await harness.adapter.get(harness.contact_type, created.id)
        assert got.id == created.id and got.title
        for name, value in harness.new_contact.items():
            assert got.fields.get(name) == value, name
        stored = await harness.stored(harness.contact_type, created.id)
        assert stored is not None
        assert all(value in _dumped(stored) for value in harness.new_contact.values())

    async def test_create_case_then_get_returns_it(self, harness: Harness) -> None:
        created = await harness.adapter.create(harness.case_type, harness.new_case)
        got = await harness.adapter.get(harness.case_type, created.id)
        assert got.id == created.id and got.type == harness.case_type and got.title
        for name, value in harness.new_case.items():
            assert got.fields.get(name) == value, name
        assert await harness.stored(harness.case_type, created.id) is not None

    async def test_create_without_a_required_field_is_rejected(self, harness: Harness) -> None:
        candidates = [
            (harness.contact_type, harness.new_contact),
            (harness.case_type, harness.new_case),
        ]
        required: set[str] = set()
        record_type, payload = candidates[0]
        for record_type, payload in candidates:  # noqa: B007 - used after the loop
            fields = await harness.adapter.list_fields(record_type)
            required = {f.name for f in fields if f.required and f.createable}
            if required:
                break
        assert required, "neither the contact nor the case type declares a required field"
        incomplete = {name: value for name, value in payload.items() if name not in required}
        with pytest.raises(CrmRejectedError) as caught:
            await harness.adapter.create(record_type, incomplete)
        assert caught.value.field is None or caught.value.field in required

    async def test_update_changes_the_field(self, harness: Harness) -> None:
        created = await harness.adapter.create(harness.contact_type, harness.new_contact)
        value = f"Updated {uuid.uuid4().hex[:8]}"
        field = harness.updatable_contact_field
        returned = await harness.adapter.update(harness.contact_type, created.id, {field: value})
        assert returned.fields.get(field) == value
        got = await harness.adapter.get(harness.contact_type, created.id)
        assert got.fields.get(field) == value
        assert value in _dumped(await harness.stored(harness.contact_type, created.id))

    async def test_update_of_an_unknown_id_raises_not_found(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        with pytest.raises(CrmNotFoundError):
            await harness.adapter.update(
                harness.contact_type,
                self.unknown_id(harness, anna.id),
                {harness.updatable_contact_field: "x"},
            )

    # --- related ---------------------------------------------------------------------------

    async def test_related_lists_other_records(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        related = await harness.adapter.related(anna)
        assert all((record.type, record.id) != (anna.type, anna.id) for record in related)
        for record in related:
            assert record.title
            _assert_absolute_url(record.url)

    # --- timeline --------------------------------------------------------------------------

    def _activity(self, record: CrmRecord, key: str) -> TimelineActivity:
        return TimelineActivity(
            key=key,
            record_type=record.type,
            record_id=record.id,
            subject=f"Inbound call {key[-6:]}",
            direction="inbound",
            channel="voice",
            duration_seconds=93,
            disposition="Resolved",
            notes="Asked about the invoice.",
            agent_name="Agent Smith",
            phone_number=ANI_ONE_MATCH,
        )

    async def test_add_timeline_links_one_activity_per_key(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        before = await harness.timeline_for(anna.type, anna.id)
        activity = self._activity(anna, f"int-{uuid.uuid4().hex[:12]}:{anna.type}:{anna.id}")
        first = await harness.adapter.add_timeline(activity)
        assert first.created is True and first.id
        after_first = await harness.timeline_for(anna.type, anna.id)
        assert len(after_first) == len(before) + 1
        assert activity.subject in _dumped(after_first)
        again = await harness.adapter.add_timeline(activity)
        assert again.created is False
        assert again.id == first.id
        assert len(await harness.timeline_for(anna.type, anna.id)) == len(before) + 1

    async def test_add_timeline_with_another_key_adds_another(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        before = await harness.timeline_for(anna.type, anna.id)
        one = await harness.adapter.add_timeline(self._activity(anna, f"a-{uuid.uuid4().hex}"))
        two = await harness.adapter.add_timeline(self._activity(anna, f"b-{uuid.uuid4().hex}"))
        assert one.created and two.created and one.id != two.id
        assert len(await harness.timeline_for(anna.type, anna.id)) == len(before) + 2

    async def test_add_timeline_rechecks_the_key_of_a_found_activity(
        self, harness: Harness
    ) -> None:
        """A look-up reply whose activity carries another key does not count as written."""
        if harness.misanswer_lookups is None:
            pytest.skip("this CRM answers the look-up from its own database")
        anna = await self._anna(harness)
        first = await harness.adapter.add_timeline(self._activity(anna, f"a-{uuid.uuid4().hex}"))
        harness.misanswer_lookups()
        before = await harness.timeline_for(anna.type, anna.id)
        second = await harness.adapter.add_timeline(self._activity(anna, f"b-{uuid.uuid4().hex}"))
        assert second.created is True and second.id != first.id
        assert len(await harness.timeline_for(anna.type, anna.id)) == len(before) + 1

    # --- a memorialization job's write -----------------------------------------------------

    async def test_write_record_writes_the_values_and_one_activity(self, harness: Harness) -> None:
        created = await self._created_contact(harness, "Before")
        before = await harness.timeline_for(created.type, created.id)
        value = f"Written {uuid.uuid4().hex[:8]}"
        activity = self._activity(created, f"w-{uuid.uuid4().hex}")
        write = RecordWrite(
            record_type=created.type,
            record_id=created.id,
            fields={harness.updatable_contact_field: value},
            activity=activity,
            activity_may_exist=False,
        )
        ref = await harness.adapter.write_record(write)
        assert ref is not None and ref.created is True and ref.id
        got = await harness.adapter.get(created.type, created.id)
        assert got.fields.get(harness.updatable_contact_field) == value
        after = await harness.timeline_for(created.type, created.id)
        assert len(after) == len(before) + 1
        assert activity.subject in _dumped(after)
        # a retry: the activity may exist now, so it is found, not linked again
        again = await harness.adapter.write_record(
            write.model_copy(update={"activity_may_exist": True})
        )
        assert again is not None and (again.id, again.created) == (ref.id, False)
        assert len(await harness.timeline_for(created.type, created.id)) == len(before) + 1

    async def test_write_record_with_values_only_links_nothing(self, harness: Harness) -> None:
        created = await self._created_contact(harness, "Before")
        before = await harness.timeline_for(created.type, created.id)
        value = f"Only {uuid.uuid4().hex[:8]}"
        ref = await harness.adapter.write_record(
            RecordWrite(
                record_type=created.type,
                record_id=created.id,
                fields={harness.updatable_contact_field: value},
            )
        )
        assert ref is None
        got = await harness.adapter.get(created.type, created.id)
        assert got.fields.get(harness.updatable_contact_field) == value
        assert len(await harness.timeline_for(created.type, created.id)) == len(before)

    async def test_write_record_of_an_unknown_id_raises_not_found(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        unknown = self.unknown_id(harness, anna.id)
        with pytest.raises(CrmNotFoundError):
            await harness.adapter.write_record(
                RecordWrite(
                    record_type=harness.contact_type,
                    record_id=unknown,
                    fields={harness.updatable_contact_field: "x"},
                    activity=self._activity(anna, f"u-{uuid.uuid4().hex}").model_copy(
                        update={"record_id": unknown}
                    ),
                    activity_may_exist=False,
                )
            )

    async def test_write_record_takes_the_vendors_fewest_requests(self, harness: Harness) -> None:
        """A first attempt's write, metadata already read, costs ``harness.write_requests``
        requests (one where the vendor has a composite or batch request)."""
        if harness.write_requests is None:
            pytest.skip("this CRM makes no HTTP requests")
        contact = await self._created_contact(harness, "Before")
        case = await harness.adapter.create(harness.case_type, harness.new_case)

        def write(record: CrmRecord, field: str) -> RecordWrite:
            return RecordWrite(
                record_type=record.type,
                record_id=record.id,
                fields={field: f"Counted {uuid.uuid4().hex[:8]}"} if field else {},
                activity=self._activity(record, f"n-{uuid.uuid4().hex}"),
                activity_may_exist=False,
            )

        counts = []
        for record, field in (
            (contact, harness.updatable_contact_field),
            (case, harness.updatable_case_field),
        ):
            await harness.adapter.write_record(write(record, field))  # reads metadata once
            replies: list[object] = []
            with observing_responses(replies.append):
                await harness.adapter.write_record(write(record, field))
            counts.append(len(replies))
        assert tuple(counts) == harness.write_requests, counts

    # --- metadata and links ----------------------------------------------------------------

    async def test_record_types_include_contact_and_case(self, harness: Harness) -> None:
        names = {record_type.name for record_type in await harness.adapter.list_record_types()}
        assert {harness.contact_type, harness.case_type} <= names

    async def test_case_fields_include_a_long_text_field_with_a_limit(
        self, harness: Harness
    ) -> None:
        fields = await harness.adapter.list_fields(harness.case_type)
        long_texts = [f for f in fields if f.type == FieldType.LONG_TEXT]
        assert long_texts, [f.name for f in fields]
        assert any(f.max_length and f.max_length > 0 for f in long_texts)

    async def test_contact_fields_cover_the_harness_fields(self, harness: Harness) -> None:
        fields = {f.name: f for f in await harness.adapter.list_fields(harness.contact_type)}
        assert set(harness.new_contact) <= set(fields)
        updatable = fields[harness.updatable_contact_field]
        assert updatable.updateable and updatable.is_text
        assert all(f.label for f in fields.values())

    async def test_list_fields_of_an_unknown_type_is_an_error(self, harness: Harness) -> None:
        with pytest.raises((CrmNotFoundError, CrmRejectedError)):
            await harness.adapter.list_fields("no_such_type_zz")

    async def test_record_url_is_an_absolute_link_with_the_id(self, harness: Harness) -> None:
        anna = await self._anna(harness)
        url = harness.adapter.record_url(harness.contact_type, anna.id)
        _assert_absolute_url(url)
        assert anna.id in url

    async def test_every_record_has_a_title_and_url(self, harness: Harness) -> None:
        records = await harness.adapter.search(PhoneSearch(number=ANI_TWO_MATCHES))
        records += await harness.adapter.search(TextSearch(text="Schmidt"))
        records.append(await harness.adapter.create(harness.case_type, harness.new_case))
        assert records
        for record in records:
            assert record.title.strip(), record
            _assert_absolute_url(record.url)
