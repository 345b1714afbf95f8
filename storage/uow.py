"""The SQL unit of work: one session, one transaction, all repositories sharing it.

A play's state change and its event commit together or not at all; leaving the `with` block
without `commit()` (an exception, or a read-only use) rolls back. A unit of work opened with
`read_only=True` binds to the engine with storage.database.READ_ONLY set (a deferred BEGIN on
SQLite) and refuses writes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.effects import REQUEST_KEY, SLACK
from core.errors import StorageError
from core.handlers import Subscribers, subscribers
from core.ports import (
    ApprovalRepository,
    AttributionRepository,
    CanaryRepository,
    ChatRecords,
    DetectionRepository,
    EventLog,
    IdempotencyRepository,
    IncidentRepository,
    JobClaims,
    Outbox,
    RunRepository,
    StatsQueries,
    TagRepository,
    TokenRepository,
    UnitOfWork,
    UnitOfWorkFactory,
    VersionRepository,
)
from storage.database import READ_ONLY
from storage.errors import storage_error
from storage.repositories import (
    SqlApprovalRepository,
    SqlAttributionRepository,
    SqlDetectionRepository,
    SqlEventLog,
    SqlIncidentRepository,
    SqlRunRepository,
    SqlTagRepository,
    SqlVersionRepository,
)
from storage.repositories.api import (
    SqlCanaryRepository,
    SqlIdempotencyRepository,
    SqlStatsRepository,
    SqlTokenRepository,
)
from storage.repositories.claims import SqlJobClaims
from storage.repositories.outbox import SqlOutbox
from storage.repositories.slack import SqlChatRecords


class SqlUnitOfWork:
    # Typed as the ports (protocol attributes are invariant), which also makes mypy prove
    # that each SQL repository implements its port.
    versions: VersionRepository
    tags: TagRepository
    events: EventLog
    approvals: ApprovalRepository
    incidents: IncidentRepository
    detections: DetectionRepository
    attributions: AttributionRepository
    runs: RunRepository
    canaries: CanaryRepository
    tokens: TokenRepository
    idempotency: IdempotencyRepository
    stats: StatsQueries
    outbox: Outbox
    claims: JobClaims
    chat: ChatRecords

    def __init__(self, sessions: sessionmaker[Session],
                 on_events: Callable[[], None] | None = None,
                 subscribed: Subscribers = subscribers, *, read_only: bool = False) -> None:
        self._sessions = sessions
        self.read_only = read_only
        self._subscribed = subscribed
        self._session: Session | None = None
        self._on_events = on_events

    def __enter__(self) -> Self:
        if self._session is not None:
            raise StorageError("a unit of work cannot be entered twice",
                               hint="ask the factory for a new one")
        session = self._session = self._sessions()
        session.info[READ_ONLY] = self.read_only
        self.versions = SqlVersionRepository(session)
        self.tags = SqlTagRepository(session)
        self.events = SqlEventLog(session)
        self.approvals = SqlApprovalRepository(session)
        self.incidents = SqlIncidentRepository(session)
        self.detections = SqlDetectionRepository(session)
        self.attributions = SqlAttributionRepository(session)
        self.runs = SqlRunRepository(session)
        self.canaries = SqlCanaryRepository(session)
        self.tokens = SqlTokenRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)
        self.stats = SqlStatsRepository(session)
        self.outbox = self._outbox = SqlOutbox(session, self._subscribed)
        self.claims = SqlJobClaims(session)
        self.chat = SqlChatRecords(session)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session = self._require()
        try:
            session.rollback()  # nothing left once commit() ran; everything otherwise
        except SQLAlchemyError as error:
            if exc is None:  # never hide the exception that is already on its way out
                raise storage_error("rolling back", error) from error
        finally:
            session.close()

    def commit(self) -> None:
        if self.read_only:
            raise StorageError("a read-only unit of work cannot commit",
                               hint="open it with read_only=False to change anything")
        key = REQUEST_KEY.get()
        if key is not None and self._outbox.written():
            # The request's first change, remembered in its own transaction: if the answer
            # to this COMMIT is lost, a retry of the request finds it and does not act again.
            scope, request = key
            effect = "; ".join(self._outbox.written())
            if scope == SLACK:
                self.chat.mark_effect(request, effect)
            else:
                self.idempotency.mark_effect(scope, request, effect)
        try:
            self._require().commit()
        except SQLAlchemyError as error:
            raise storage_error("committing", error) from error
        if self._outbox.take_written() and self._on_events is not None:
            self._on_events()

    def rollback(self) -> None:
        try:
            self._require().rollback()
        except SQLAlchemyError as error:
            raise storage_error("rolling back", error) from error
        self._outbox.take_written()  # rolled back: nothing to deliver

    def _require(self) -> Session:
        if self._session is None:
            raise StorageError("the unit of work is used outside its `with` block")
        return self._session


def uow_factory(engine: Engine, on_events: Callable[[], None] | None = None,
                subscribed: Subscribers = subscribers) -> SqlUnitOfWorkFactory:
    """What the composition root hands to the play engine as its UnitOfWorkFactory.
    `on_events` is called after a commit that wrote events (to wake the dispatcher);
    `subscribed` names the handlers of each event written (the config's webhooks too)."""
    sessions = sessionmaker(engine, autoflush=False, expire_on_commit=False)
    reads = sessionmaker(engine.execution_options(**{READ_ONLY: True}), autoflush=False,
                         expire_on_commit=False)

    def open_unit(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(reads if read_only else sessions, on_events, subscribed,
                             read_only=read_only)

    return open_unit


class SqlUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork: ...


if TYPE_CHECKING:  # mypy proves the SQL unit of work implements the port
    _implements: type[UnitOfWork] = SqlUnitOfWork
    _factory: UnitOfWorkFactory = uow_factory(None)  # type: ignore[arg-type]
