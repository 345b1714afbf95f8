"""The in-memory registry behind the fakes: committed state, the repositories and a really
transactional unit of work.

Each transaction works on its own snapshot of the committed state, every write is also kept as
an operation, and commit replays the operations against the state committed by then. A conflict
found at commit (a tag moved, a request saved, a version added by another transaction meanwhile)
raises the same error the statement would have raised, and nothing of the transaction is
applied. Leaving the `with` block without commit discards it. Stored mutable objects (requests,
incidents, runs) are copied on the way in and out.

This module has the registry's repositories (versions, tags, events) and the unit of work; the
committed state and the repository base are in fake_state.py, the record repositories
(approvals, incidents, attributions, runs) in fake_records.py.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self

from fake_access import FakeIdempotencyRepository, FakeStats, FakeTokenRepository
from fake_canary import FakeCanaryRepository
from fake_outbox import FakeOutbox
from fake_records import (
    FakeApprovalRepository,
    FakeAttributionRepository,
    FakeDetectionRepository,
    FakeIncidentRepository,
    FakeRunRepository,
)
from fake_state import T0, FakeRepo, FakeStore, Op, State
from fake_surfaces import FakeChatRecords, FakeJobClaims

from core import ports
from core.domain import Ancestor, Tag, TagMoved, Version
from core.errors import AlreadyExists, Conflict, NotFound, StorageError, TagMovedMeanwhile

__all__ = ["T0", "FakeApprovalRepository", "FakeAttributionRepository", "FakeEventLog",
           "FakeIncidentRepository", "FakeRunRepository", "FakeStore", "FakeTagRepository",
           "FakeUnitOfWork", "FakeUnitOfWorkFactory", "FakeVersionRepository", "State"]


# --- the registry's repositories ------------------------------------------------------------


class FakeVersionRepository(FakeRepo, ports.VersionRepository):
    def add(self, version: Version) -> None:
        key = (version.model, version.id)

        def op(s: State) -> None:
            if key in s.versions:
                raise AlreadyExists(f"version {version.short} is already registered")
            s.versions[key] = version

        self._write("versions.add", op)

    def get(self, model: str, version_id: str) -> Version | None:
        return self._s.versions.get((model, version_id))

    def ids_with_prefix(self, model: str, prefix: str, limit: int = 6) -> builtins.list[str]:
        ids = sorted(vid for (m, vid) in self._s.versions if m == model and vid.startswith(prefix))
        return ids[:limit]

    def list(self, model: str, *, limit: int = 50,
             kind: str | None = None) -> builtins.list[Version]:
        found = [v for v in self._s.versions.values()
                 if v.model == model and (kind is None or v.kind == kind)]
        found.reverse()  # newest registered first among equal times (sort is stable)
        found.sort(key=lambda v: v.created_at, reverse=True)
        return found[:limit]

    def with_live_artifacts(self, model: str | None = None) -> builtins.list[Version]:
        return [v for v in self._s.versions.values()
                if (model is None or v.model == model) and v.artifacts
                and v.artifacts_collected_at is None]

    def ancestry(self, model: str, version_id: str,
                 limit: int | None = None) -> builtins.list[Ancestor]:
        chain: builtins.list[Version] = []
        found = self._s.versions.get((model, version_id))
        while found is not None and found not in chain:
            chain.append(found)
            found = self._s.versions.get((model, found.parent_id)) if found.parent_id else None
        root, depth = chain[-1].id if chain else "", len(chain) - 1
        return [Ancestor(v.model, v.id, v.owner, v.reason, v.created_at, depth - n, root)
                for n, v in enumerate(chain)][:limit]

    def mark_artifacts_collected(self, model: str, version_id: str, at: datetime) -> None:
        key = (model, version_id)

        def op(s: State) -> None:
            if key not in s.versions:
                raise NotFound(f"no version {model}@{version_id[:12]}")
            s.versions[key] = replace(s.versions[key], artifacts_collected_at=at)

        self._write("versions.mark_artifacts_collected", op)


class FakeTagRepository(FakeRepo, ports.TagRepository):
    def get(self, model: str, tag: str) -> Tag | None:
        return self._s.tags.get((model, tag))

    def list(self, model: str | None = None) -> builtins.list[Tag]:
        return sorted((t for t in self._s.tags.values() if model is None or t.model == model),
                      key=lambda t: (t.model, t.name))

    def compare_and_set(self, model: str, tag: str, expected_revision: int, version_id: str,
                        at: datetime) -> Tag:
        moved = Tag(model, tag, version_id, expected_revision + 1, at)

        def op(s: State) -> None:
            now = s.tags.get((model, tag))
            if (now.revision if now else 0) != expected_revision:
                raise TagMovedMeanwhile(model, tag, expected_revision)
            s.tags[(model, tag)] = moved

        self._write("tags.compare_and_set", op)
        return moved


class FakeEventLog(FakeRepo, ports.EventLog):
    def append(self, event: TagMoved) -> TagMoved:
        stored = replace(event, seq=next(self._uow.store.seq))

        def op(s: State) -> None:
            for e in s.events.values():
                if (e.model, e.tag, e.revision) == (event.model, event.tag, event.revision):
                    raise Conflict(f"event {event.model}:{event.tag} revision {event.revision} "
                                   "is already recorded")
            s.events[stored.seq or 0] = stored

        self._write("events.append", op)
        return stored

    def history(self, model: str, tag: str | None = None, *, since: datetime | None = None,
                until: datetime | None = None, before_seq: int | None = None,
                play: str | None = None, limit: int | None = None,
                newest_first: bool = False) -> builtins.list[TagMoved]:
        found = [e for _, e in sorted(self._s.events.items())
                 if e.model == model and (tag is None or e.tag == tag)
                 and (since is None or e.at >= since) and (until is None or e.at <= until)
                 and (before_seq is None or (e.seq or 0) < before_seq)
                 and (play is None or e.play == play)]
        if since is not None or until is not None:  # nearest the bound by time, as SQL
            found.sort(key=lambda e: (e.at, e.seq or 0))
        if newest_first:
            found.reverse()
        found = found if limit is None else found[:limit]
        return sorted(found, key=lambda e: e.seq or 0, reverse=newest_first)

    def touching(self, model: str, version_id: str) -> builtins.list[TagMoved]:
        return [e for _, e in sorted(self._s.events.items()) if e.model == model
                and version_id in (e.from_version, e.to_version)]

    def rolled_back_from(self, model: str, tag: str,
                         version_ids: Collection[str]) -> builtins.set[str]:
        return {e.from_version for e in self._s.events.values()
                if e.model == model and e.tag == tag and e.play == "rollback"
                and e.from_version is not None and e.from_version in version_ids}

    def ever_pointed(self, model: str, tag: str, version_id: str) -> bool:
        return any(e.model == model and e.tag == tag and e.to_version == version_id
                   for e in self._s.events.values())


# --- the unit of work -----------------------------------------------------------------------


class FakeUnitOfWork(ports.UnitOfWork):
    def __init__(self, store: FakeStore, factory: FakeUnitOfWorkFactory | None = None, *,
                 read_only: bool = False) -> None:
        self.store = store
        self.factory = factory
        self.read_only = read_only
        self.committed = 0  # how many times commit() succeeded
        self.rolled_back = 0
        self._staged: State | None = None
        self._log: list[Op] = []
        self.versions = FakeVersionRepository(self)
        self.tags = FakeTagRepository(self)
        self.events = FakeEventLog(self)
        self.approvals = FakeApprovalRepository(self)
        self.incidents = FakeIncidentRepository(self)
        self.detections = FakeDetectionRepository(self)
        self.attributions = FakeAttributionRepository(self)
        self.runs = FakeRunRepository(self)
        self.canaries = FakeCanaryRepository(self)
        self.tokens = FakeTokenRepository(self)
        self.idempotency = FakeIdempotencyRepository(self)
        self.stats = FakeStats(self)
        self.outbox = FakeOutbox(self)
        self.claims = FakeJobClaims(self)
        self.chat = FakeChatRecords(self)

    def __enter__(self) -> Self:
        if self._staged is not None:
            raise RuntimeError("this unit of work is already open")
        self._begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.rollback()
        self._staged = None

    def _begin(self) -> None:
        self._staged = self.store.state.copy()
        self._log = []

    def staged(self) -> State:
        if self._staged is None:
            raise RuntimeError("repository used outside `with uow:` (no open transaction)")
        return self._staged

    def do(self, op: Op) -> None:
        if self.read_only:  # as the SQL unit of work refuses it
            raise StorageError("a read-only unit of work cannot write",
                               hint="open it with read_only=False to change anything")
        op(self.staged())  # raises here what the statement would raise
        self._log.append(op)

    def commit(self) -> None:
        self.staged()
        if self.read_only:
            raise StorageError("a read-only unit of work cannot commit",
                               hint="open it with read_only=False to change anything")
        fresh = self.store.state.copy()
        try:
            for op in self._log:  # re-check against what others committed meanwhile
                op(fresh)
        except BaseException:
            self._begin()
            raise
        self.store.state = fresh
        self.committed += 1
        if self.factory is not None:
            self.factory.commits += 1
        self._begin()

    def rollback(self) -> None:
        if self._staged is not None and self._log:
            self.rolled_back += 1
        if self._staged is not None:
            self._begin()


class FakeUnitOfWorkFactory:
    """What PlayContext.uow is: each call opens a new transaction on the same store."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.opened: list[FakeUnitOfWork] = []
        self.commits = 0

    def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store, self, read_only=read_only)
        self.opened.append(uow)
        return uow
