"""Counts committed changes to configuration rows made in this process.

Session events note a flush or bulk statement that touches ``crm_configurations`` (or the
dynamic data mappings) and bump ``ConfigChanges.generation`` when that transaction commits;
a value the directory cached under an older generation is stale and re-read on its next use.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from ..storage.config_tables import ConfigurationRow, DynamicDataMappingRow

__all__ = ["ConfigChanges"]


class ConfigChanges:
    generation = 0
    _flag = "customer_card.configuration_changed"

    _rows = (ConfigurationRow, DynamicDataMappingRow)
    _tables = frozenset(row.__tablename__ for row in _rows)

    @classmethod
    def note_flush(cls, session: Session, _context: Any) -> None:
        if any(
            isinstance(obj, cls._rows) for obj in chain(session.new, session.dirty, session.deleted)
        ):
            session.info[cls._flag] = True

    @classmethod
    def note_statement(cls, state: ORMExecuteState) -> None:
        table = getattr(state.statement, "table", None)
        if (state.is_update or state.is_delete or state.is_insert) and getattr(
            table, "name", None
        ) in cls._tables:
            state.session.info[cls._flag] = True

    @classmethod
    def committed(cls, session: Session) -> None:
        if session.info.pop(cls._flag, False):
            cls.generation += 1

    @classmethod
    def rolled_back(cls, session: Session) -> None:
        session.info.pop(cls._flag, None)


event.listen(Session, "after_flush", ConfigChanges.note_flush)
event.listen(Session, "do_orm_execute", ConfigChanges.note_statement)
event.listen(Session, "after_commit", ConfigChanges.committed)
event.listen(Session, "after_rollback", ConfigChanges.rolled_back)
