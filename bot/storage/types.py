"""Column types shared by the tables, and the session that checks values against them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, event, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.types import TypeDecorator

from crm.errors import InputError

__all__ = ["CheckedSession", "UtcDateTime"]


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC on every database: written as UTC (a time without offset is taken as
    UTC) and read back with its offset. SQLite keeps no offset and hands back naive
    datetimes; without this, answers on SQLite would carry times without an offset (not
    RFC 3339) and aware times of other offsets would be stored as if UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        return _in_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return _in_utc(value)


def _in_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class CheckedSession(Session):
    """Refuses a string longer than its ``String(n)`` column with a 400 (``InputError``)
    before it reaches the database: PostgreSQL would refuse it with a driver error, SQLite
    would store it. The field named is the column's ``info["field"]`` (the input it comes
    from, when that is not the attribute itself) or the attribute."""


@event.listens_for(CheckedSession, "before_flush")
def _check_lengths(session: Session, _context: UOWTransaction, _instances: object) -> None:
    for instance in (*session.new, *session.dirty):
        state = inspect(instance)
        for attribute in state.mapper.column_attrs:
            column = attribute.columns[0]
            length = getattr(column.type, "length", None)
            value = state.dict.get(attribute.key)  # loaded values only: never a lazy load
            if length and isinstance(value, str) and len(value) > length:
                field = column.info.get("field", attribute.key)
                raise InputError(
                    f"{field}: longer than {length} characters", code="too_long", field=field
                )
