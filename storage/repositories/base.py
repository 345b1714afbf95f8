"""What every SQL repository shares: one session per unit of work, fresh reads, savepoints.

Rows are read through the ORM but written with Core statements, so every read refreshes the
identity map (`populate_existing`) instead of trusting objects a Core UPDATE bypassed.
Writes that may conflict run in a savepoint: a caller that catches AlreadyExists or
TagMovedMeanwhile keeps a usable transaction, even on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, CursorResult, Executable, Select, select
from sqlalchemy.orm import Session

from core.errors import StorageError
from storage.database import READ_ONLY
from storage.orm import VersionRow

T = TypeVar("T")


class SqlRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def _conn(self) -> Connection:
        return self._session.connection()

    def _rows(self, stmt: Select[T]) -> list[T]:
        return list(self._session.scalars(stmt.execution_options(populate_existing=True)))

    def _first(self, stmt: Select[T]) -> T | None:
        return self._session.scalars(
            stmt.limit(1).execution_options(populate_existing=True)).first()

    def _by_key(self, row_type: type[T], key: Any) -> T | None:
        return self._session.get(row_type, key, populate_existing=True)

    def _write(self, stmt: Executable) -> CursorResult[Any]:
        self._writable()
        return self._conn.execute(stmt)

    def _writable(self) -> None:
        """Refuse a write in a read-only unit of work (on SQLite its deferred transaction
        would take the write lock midway, and could fail on a snapshot gone stale)."""
        if self._session.info.get(READ_ONLY):
            raise StorageError("a read-only unit of work cannot write",
                               hint="open it with read_only=False to change anything")

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        with self._session.begin_nested():
            yield

    def _version_exists(self, model: str, version_id: str | None) -> bool:
        if version_id is None:
            return True
        stmt = select(VersionRow.id).where(VersionRow.model == model,
                                           VersionRow.id == version_id)
        return self._session.execute(stmt).first() is not None
