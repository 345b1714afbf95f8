"""Column types that behave the same on SQLite and PostgreSQL.

Domain times are timezone-aware UTC. PostgreSQL keeps the offset (timestamptz) but answers in
the session's time zone; SQLite keeps no offset at all. `UTCDateTime` makes both store UTC and
answer aware UTC, so comparisons and round-trips never depend on the database or the server's
TZ setting.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out; naive datetimes are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"storage needs timezone-aware datetimes, got naive {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)  # stored as UTC text, sorts chronologically
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _jsonable(value: Any) -> Any:
    """What plays put into run outputs beyond plain JSON; anything else is a bug to surface."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, PurePath):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON: {value!r}")


def dumps(value: Any) -> str:
    """The engine's JSON serializer: strict about NaN, which PostgreSQL's json type rejects."""
    return json.dumps(value, default=_jsonable, allow_nan=False, ensure_ascii=False)


def iso_utc(value: datetime) -> str:
    """Times nested inside JSON columns get the same UTC rule as `UTCDateTime` columns."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"storage needs timezone-aware datetimes, got naive {value!r}")
    return value.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
