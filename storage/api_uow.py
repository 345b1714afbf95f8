"""The HTTP API's unit of work: the registry's repositories plus tokens, idempotency keys and
canary slices, all in one transaction, so a canary's tag move and its slice commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from storage.repositories.api import (
    SqlIdempotencyRepository,
    SqlStatsRepository,
    SqlTokenRepository,
)
from storage.uow import SqlUnitOfWork


class ApiUnitOfWork(SqlUnitOfWork):
    tokens: SqlTokenRepository
    idempotency: SqlIdempotencyRepository
    stats: SqlStatsRepository

    def __enter__(self) -> Self:
        super().__enter__()
        session = self._require()
        self.tokens = SqlTokenRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)
        self.stats = SqlStatsRepository(session)
        return self


ApiUnitOfWorkFactory = Callable[[], ApiUnitOfWork]


def api_uow_factory(engine: Engine,
                    on_events: Callable[[], None] | None = None) -> ApiUnitOfWorkFactory:
    sessions = sessionmaker(engine, autoflush=False, expire_on_commit=False)
    return lambda: ApiUnitOfWork(sessions, on_events)
