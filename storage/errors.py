"""Database errors become core.errors at the storage boundary, so no caller imports SQLAlchemy.

Conflicts a caller can act on (already exists, moved meanwhile) are translated where they are
raised, inside each repository; everything else that escapes becomes one StorageError that says
what storage was doing and, in its hint, what usually fixes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)

from core.errors import InvalidInput, PlaybookError, StorageError

P = ParamSpec("P")
R = TypeVar("R")


def storage_error(action: str, exc: SQLAlchemyError) -> StorageError:
    orig = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(orig).strip().splitlines()
    detail = lines[0] if lines else type(orig).__name__
    lowered = detail.lower()
    if "database is locked" in lowered or "database table is locked" in lowered:
        hint = ("another process kept the SQLite database busy for longer than the 30 s "
                "timeout; move to PostgreSQL if several writers are the norm")
    elif "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        hint = ("the database schema is missing or old; `playbook db upgrade` migrates it "
                "(or --migrate)")
    elif isinstance(exc, OperationalError):
        hint = "check that the database is reachable and DATABASE_URL is right"
    elif isinstance(exc, DBAPIError):
        hint = "this is likely a bug in Playbook; please report it with this message"
    else:
        hint = None
    return StorageError(f"database error while {action}: {detail}", hint=hint)


def data_error(action: str, exc: DataError) -> InvalidInput:
    """A value the database cannot hold is the caller's error (never an outage, which
    clients would retry)."""
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return InvalidInput("value", f"the database cannot hold a value given ({action}): "
                                 f"{lines[0] if lines else type(exc).__name__}",
                        hint="check the values sent: times between 1970 and 8999, text "
                             "without NUL characters, numbers in range")


def translated(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a repository method so SQLAlchemy errors leave it as StorageError."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except PlaybookError:
                raise
            except DataError as exc:  # the data, not the database: out of range, NUL, ...
                raise data_error(action, exc) from exc
            except SQLAlchemyError as exc:
                raise storage_error(action, exc) from exc

        return wrapper

    return decorate
