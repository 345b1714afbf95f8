"""The in-memory registry behind the fakes: committed state, the repositories and a really
transactional unit of work.

Each transaction works on its own snapshot of the committed state, every write is also kept as
an operation, and commit replays the operations against the state committed by then. A conflict
found at commit (a tag moved, a request saved, a version added by another transaction meanwhile)
raises the same error the statement would have raised, and nothing of the transaction is
applied. Leaving the `with` block without commit discards it. Stored mutable objects (requests,
incidents, runs) are copied on the way in and out.
"""

from __future__ import annotations

import builtins
import copy
import itertools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from core import ports
from core.domain import (
    ApprovalRequest,
    ApprovalStatus,
    Attribution,
    Incident,
    PlayRun,
    Tag,
    TagMoved,
    Version,
)
from core.errors import AlreadyExists, Conflict, NotFound, TagMovedMeanwhile

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

    def copy(self) -> State:
        return State(dict(self.versions), dict(self.tags), dict(self.events),
                     dict(self.approvals), dict(self.incidents), dict(self.attributions),
                     dict(self.runs))


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


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _s(self) -> State:
        return self._uow.staged()

    def _write(self, name: str, op: Op) -> None:
        self._uow.store.fire(name)
        self._uow.do(op)


class FakeVersionRepository(_Repo, ports.VersionRepository):
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

    def mark_artifacts_collected(self, model: str, version_id: str, at: datetime) -> None:
        key = (model, version_id)

        def op(s: State) -> None:
            if key not in s.versions:
                raise NotFound(f"no version {model}@{version_id[:12]}")
            s.versions[key] = replace(s.versions[key], artifacts_collected_at=at)

        self._write("versions.mark_artifacts_collected", op)


class FakeTagRepository(_Repo, ports.TagRepository):
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


class FakeEventLog(_Repo, ports.EventLog):
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
        if newest_first:
            found.reverse()
        return found if limit is None else found[:limit]

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


class FakeApprovalRepository(_Repo, ports.ApprovalRepository):
    def add(self, request: ApprovalRequest) -> None:
        stored = copy.deepcopy(request)

        def op(s: State) -> None:
            if request.id in s.approvals:
                raise AlreadyExists(f"approval request {request.id} exists")
            s.approvals[request.id] = stored

        self._write("approvals.add", op)

    def get(self, request_id: str) -> ApprovalRequest | None:
        found = self._s.approvals.get(request_id)
        return copy.deepcopy(found) if found else None

    def save(self, request: ApprovalRequest) -> None:
        """Optimistic concurrency: fails when someone saved since `request` was read."""
        read_at = request.revision
        stored = copy.deepcopy(request)
        stored.revision = read_at + 1

        def op(s: State) -> None:
            now = s.approvals.get(request.id)
            if now is None:
                raise NotFound(f"no approval request {request.id!r}")
            if now.revision != read_at:
                raise Conflict(f"approval request {request.id} was changed meanwhile",
                               hint="re-read it and decide again")
            s.approvals[request.id] = stored

        self._write("approvals.save", op)
        request.revision = read_at + 1

    def pending(self, model: str | None = None) -> builtins.list[ApprovalRequest]:
        return [copy.deepcopy(r) for r in sorted(self._s.approvals.values(),
                                                 key=lambda r: r.created_at)
                if r.status == ApprovalStatus.PENDING and (model is None or r.model == model)]

    def for_version(self, model: str, version_id: str) -> builtins.list[ApprovalRequest]:
        return [copy.deepcopy(r) for r in sorted(self._s.approvals.values(),
                                                 key=lambda r: r.created_at)
                if r.model == model and r.version_id == version_id]


class FakeIncidentRepository(_Repo, ports.IncidentRepository):
    def add(self, incident: Incident) -> None:
        stored = copy.deepcopy(incident)

        def op(s: State) -> None:
            if incident.id in s.incidents:
                raise AlreadyExists(f"incident {incident.id} exists")
            s.incidents[incident.id] = stored

        self._write("incidents.add", op)

    def get(self, incident_id: str) -> Incident | None:
        found = self._s.incidents.get(incident_id)
        return copy.deepcopy(found) if found else None

    def save(self, incident: Incident) -> None:
        stored = copy.deepcopy(incident)

        def op(s: State) -> None:
            if incident.id not in s.incidents:
                raise NotFound(f"no incident {incident.id!r}")
            s.incidents[incident.id] = stored

        self._write("incidents.save", op)

    def list(self, model: str | None = None, *, limit: int = 50,
             since: datetime | None = None,
             rehearsal: bool | None = None) -> builtins.list[Incident]:
        found = [copy.deepcopy(i) for i in self._s.incidents.values()
                 if (model is None or i.model == model)
                 and (since is None or i.opened_at >= since)
                 and (rehearsal is None or i.rehearsal == rehearsal)]
        found.reverse()
        found.sort(key=lambda i: i.opened_at, reverse=True)
        return found[:limit]

    def for_version(self, model: str, version_id: str) -> builtins.list[Incident]:
        return [copy.deepcopy(i) for i in self._s.incidents.values() if i.model == model
                and version_id in (i.bad_version, i.restored_version)]


class FakeAttributionRepository(_Repo, ports.AttributionRepository):
    def add_many(self, records: Sequence[Attribution]) -> int:
        new: dict[str, Attribution] = {}
        for r in records:
            if r.request_id not in self._s.attributions and r.request_id not in new:
                new[r.request_id] = r

        def op(s: State) -> None:
            for rid, r in new.items():
                s.attributions.setdefault(rid, r)

        self._write("attributions.add_many", op)
        return len(new)

    def get(self, request_id: str) -> Attribution | None:
        return self._s.attributions.get(request_id)

    def served_by(self, request_ids: Collection[str]) -> dict[str, tuple[str, str]]:
        return {rid: (a.model, a.version_id) for rid in request_ids
                if (a := self._s.attributions.get(rid)) is not None}

    def count(self, model: str, since: datetime, until: datetime) -> int:
        return sum(1 for a in self._s.attributions.values()
                   if a.model == model and since <= a.served_at < until)


class FakeRunRepository(_Repo, ports.RunRepository):
    def add(self, run: PlayRun) -> None:
        stored = copy.deepcopy(run)

        def op(s: State) -> None:
            if run.id in s.runs:
                raise AlreadyExists(f"run {run.id} exists")
            s.runs[run.id] = stored

        self._write("runs.add", op)

    def get(self, run_id: str) -> PlayRun | None:
        found = self._s.runs.get(run_id)
        return copy.deepcopy(found) if found else None

    def list(self, *, play: str | None = None, limit: int = 20) -> builtins.list[PlayRun]:
        found = [copy.deepcopy(r) for r in self._s.runs.values() if play is None or r.play == play]
        found.reverse()
        return found[:limit]


# --- the unit of work -----------------------------------------------------------------------


class FakeUnitOfWork(ports.UnitOfWork):
    def __init__(self, store: FakeStore, factory: FakeUnitOfWorkFactory | None = None) -> None:
        self.store = store
        self.factory = factory
        self.committed = 0  # how many times commit() succeeded
        self.rolled_back = 0
        self._staged: State | None = None
        self._log: list[Op] = []
        self.versions = FakeVersionRepository(self)
        self.tags = FakeTagRepository(self)
        self.events = FakeEventLog(self)
        self.approvals = FakeApprovalRepository(self)
        self.incidents = FakeIncidentRepository(self)
        self.attributions = FakeAttributionRepository(self)
        self.runs = FakeRunRepository(self)

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
        op(self.staged())  # raises here what the statement would raise
        self._log.append(op)

    def commit(self) -> None:
        self.staged()
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

    def __call__(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store, self)
        self.opened.append(uow)
        return uow
