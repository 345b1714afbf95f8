"""The committed state of the in-memory registry, the shared "database", and the base of every
fake repository (its reads see the open transaction's snapshot, its writes are logged as
operations that commit replays). See fake_store.py for the whole design."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from core.domain import (
    ApprovalRequest,
    Attribution,
    Detection,
    Incident,
    PlayRun,
    Tag,
    TagMoved,
    Version,
)

if TYPE_CHECKING:
    from fake_store import FakeUnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

Op = Callable[["State"], None]


# --- the committed state --------------------------------------------------------------------


@dataclass
class State:
    """One database's worth of rows. Containers are copied per transaction; the objects in
    them are immutable or copied on every read and write, so sharing them is safe."""

    versions: dict[tuple[str, str], Version] = field(default_factory=dict)
    tags: dict[tuple[str, str], Tag] = field(default_factory=dict)
    events: dict[int, TagMoved] = field(default_factory=dict)  # seq -> event
    approvals: dict[str, ApprovalRequest] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    attributions: dict[str, Attribution] = field(default_factory=dict)
    runs: dict[str, PlayRun] = field(default_factory=dict)
    canaries: dict[str, Any] = field(default_factory=dict)  # model -> CanaryState
    tokens: dict[str, Any] = field(default_factory=dict)  # id -> (ApiToken, sha256)
    idempotency: dict[tuple[str, str], Any] = field(default_factory=dict)  # -> StoredResponse
    outbox: dict[int, Any] = field(default_factory=dict)  # seq -> event
    deliveries: dict[tuple[int, str], Any] = field(default_factory=dict)  # -> Delivery
    claims: dict[tuple[str, datetime], Any] = field(default_factory=dict)  # -> JobClaim
    chat_deliveries: dict[str, Any] = field(default_factory=dict)  # key -> Delivery
    chat_messages: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    outside: dict[tuple[str, str, date], int] = field(default_factory=dict)
    detections: dict[str, Detection] = field(default_factory=dict)

    def copy(self) -> State:
        return State(dict(self.versions), dict(self.tags), dict(self.events),
                     dict(self.approvals), dict(self.incidents), dict(self.attributions),
                     dict(self.runs), dict(self.canaries), dict(self.tokens),
                     dict(self.idempotency), dict(self.outbox), dict(self.deliveries),
                     dict(self.claims), dict(self.chat_deliveries), dict(self.chat_messages),
                     dict(self.outside), dict(self.detections))


class FakeStore:
    """The shared "database" behind every FakeUnitOfWork."""

    def __init__(self) -> None:
        self.state = State()
        self.seq = itertools.count(1)  # like a database sequence: never reused, gaps allowed
        self._before: dict[str, list[Callable[[], object]]] = {}

    def before_next(self, operation: str, fn: Callable[[], object]) -> None:
        """Run `fn` once, just before the next call of a repository write such as
        "tags.compare_and_set" or "versions.add" (to stage a race with another writer)."""
        self._before.setdefault(operation, []).append(fn)

    def fire(self, operation: str) -> None:
        for fn in self._before.pop(operation, []):
            fn()


# --- repositories ---------------------------------------------------------------------------


class FakeRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _s(self) -> State:
        return self._uow.staged()

    def _write(self, name: str, op: Op) -> None:
        self._uow.store.fire(name)
        self._uow.do(op)
