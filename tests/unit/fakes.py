"""In-memory fakes of every port in core/ports.py, for the unit tests of the plays.

The registry itself (state, repositories, unit of work) is in fake_store.py; this module adds
the clock, evaluator, artifact store and approver directory, and wires them into a PlayContext.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fake_store import (  # noqa: F401  (re-exported for the tests)
    T0,
    FakeApprovalRepository,
    FakeAttributionRepository,
    FakeEventLog,
    FakeIncidentRepository,
    FakeRunRepository,
    FakeStore,
    FakeTagRepository,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
    FakeVersionRepository,
    State,
)

from core import ports
from core.config import ModelPolicy, PlaybookConfig, parse_config
from core.domain import (
    ApprovalRequest,
    Artifact,
    Attribution,
    Incident,
    PlayRun,
    TagMoved,
    Version,
)
from core.engine import ConfigApprovers, PlayContext
from core.errors import EvaluatorError
from core.identity import Components, version_id

# --- the other ports ------------------------------------------------------------------------


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"FakeClock needs a timezone-aware time, got {when!r}")
    return when.astimezone(UTC)


class FakeClock(ports.Clock):
    """Stands still unless told: `set`, `advance`, or `tick` (added after every reading)."""

    def __init__(self, start: datetime = T0, *, tick: timedelta = timedelta(0)) -> None:
        self._now = _utc(start)
        self.tick = tick

    def now(self) -> datetime:
        current = self._now
        self._now = current + self.tick
        return current

    def set(self, when: datetime) -> None:
        self._now = _utc(when)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


Scores = Mapping[str, float]


class FakeEvaluator(ports.Evaluator):
    """Answers scores per version id (or from a function of the version); records each call.

    `fail` makes every call raise EvaluatorError (or the exception given).
    """

    def __init__(self, scores: Mapping[str, Scores] | Callable[[Version], Scores] | None = None,
                 *, default: Scores | None = None, fail: str | BaseException | None = None,
                 name: str = "fake-eval") -> None:
        self.by_id: dict[str, Scores] = {}
        self.fn: Callable[[Version], Scores] | None = None
        if callable(scores):
            self.fn = scores
        elif scores is not None:
            self.by_id = dict(scores)
        self.default = default
        self.fail = fail
        self.name = name
        self.calls: list[Version] = []

    def set(self, vid: str, **scores: float) -> None:
        self.by_id[vid] = scores

    @property
    def called_ids(self) -> list[str]:
        return [v.id for v in self.calls]

    def evaluate(self, version: Version) -> dict[str, float]:
        self.calls.append(version)
        if isinstance(self.fail, BaseException):
            raise self.fail
        if self.fail is not None:
            raise EvaluatorError(self.fail)
        if version.id in self.by_id:
            return dict(self.by_id[version.id])
        if self.fn is not None:
            return dict(self.fn(version))
        if self.default is not None:
            return dict(self.default)
        raise EvaluatorError(f"{self.name} has no scores for {version.short}")

    def describe(self) -> str:
        return self.name


class FakeArtifactStore(ports.ArtifactStore):
    """Blobs in memory by sha256; a blob another version still uses survives a delete."""

    root = Path("/fake-artifacts")

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.index: dict[tuple[str, str], dict[str, Artifact]] = {}

    def put_bytes(self, model: str, version_id: str, name: str, data: bytes) -> Artifact:
        sha = hashlib.sha256(data).hexdigest()
        self.blobs[sha] = data
        artifact = Artifact(name, sha, len(data))
        self.index.setdefault((model, version_id), {})[name] = artifact
        return artifact

    def put(self, model: str, version_id: str, path: Path) -> Artifact:
        return self.put_bytes(model, version_id, path.name, path.read_bytes())

    def delete(self, model: str, version_id: str) -> int:
        dropped = self.index.pop((model, version_id), {})
        in_use = {a.sha256 for arts in self.index.values() for a in arts.values()}
        freed = 0
        for a in dropped.values():
            if a.sha256 not in in_use and a.sha256 in self.blobs:
                freed += len(self.blobs.pop(a.sha256))
        return freed

    def path_of(self, model: str, version_id: str, name: str) -> Path | None:
        artifact = self.index.get((model, version_id), {}).get(name)
        if artifact is None or artifact.sha256 not in self.blobs:
            return None
        return self.root / artifact.sha256

    def total_bytes(self) -> int:
        return sum(len(b) for b in self.blobs.values())


class FakeApproverDirectory(ports.ApproverDirectory):
    """Who may approve, per model, as Slack would resolve a group; records each question."""

    def __init__(self, members: Mapping[str, Iterable[str]] | None = None) -> None:
        self.members = {m: set(users) for m, users in (members or {}).items()}
        self.asked: list[tuple[str, str]] = []

    def may_approve(self, policy: ModelPolicy, user: str) -> tuple[bool, str]:
        self.asked.append((policy.name, user))
        if user in self.members.get(policy.name, set()):
            return True, ""
        group = policy.approver_group or "the approvers"
        return False, f"{user} is not in {group} of {policy.name}"


class EvaluatorFactory:
    """Like the bot's: an evaluator for a model that declares one in its config, else None.

    `per_model` overrides that for named models (an evaluator, or None for "no evaluator").
    """

    def __init__(self, evaluator: FakeEvaluator) -> None:
        self.evaluator = evaluator
        self.per_model: dict[str, FakeEvaluator | None] = {}

    def __call__(self, policy: ModelPolicy) -> ports.Evaluator | None:
        if policy.name in self.per_model:
            return self.per_model[policy.name]
        return self.evaluator if policy.evaluator is not None else None


# --- wiring ---------------------------------------------------------------------------------


class SequentialIds:
    """Deterministic ids for runs, requests and incidents: run-1, apr-2, inc-3, ..."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}-{next(self._n)}"


@dataclass
class Fakes:
    store: FakeStore
    uow: FakeUnitOfWorkFactory
    clock: FakeClock
    evaluator: FakeEvaluator
    evaluators: EvaluatorFactory
    artifacts: FakeArtifactStore
    approvers: ports.ApproverDirectory

    # What is committed, for assertions.
    @property
    def state(self) -> State:
        return self.store.state

    @property
    def versions(self) -> list[Version]:
        return list(self.state.versions.values())

    def version(self, model: str, vid: str) -> Version:
        return self.state.versions[(model, vid)]

    @property
    def tags(self) -> dict[tuple[str, str], tuple[str, int]]:
        return {k: (t.version_id, t.revision) for k, t in self.state.tags.items()}

    def tag(self, model: str, tag: str = "production") -> str | None:
        t = self.state.tags.get((model, tag))
        return t.version_id if t else None

    @property
    def events(self) -> list[TagMoved]:
        return [e for _, e in sorted(self.state.events.items())]

    @property
    def approvals(self) -> list[ApprovalRequest]:
        return list(self.state.approvals.values())

    def approval(self, request_id: str) -> ApprovalRequest:
        return self.state.approvals[request_id]

    @property
    def incidents(self) -> list[Incident]:
        return list(self.state.incidents.values())

    @property
    def attributions(self) -> dict[str, Attribution]:
        return dict(self.state.attributions)

    @property
    def runs(self) -> list[PlayRun]:
        return list(self.state.runs.values())

    def last_run(self) -> PlayRun:
        return self.runs[-1]

    def snapshot(self) -> dict[str, Any]:
        """Everything but the run records and the artifact blobs, to compare before/after."""
        s = self.state
        return {"versions": dict(s.versions), "tags": dict(s.tags), "events": dict(s.events),
                "approvals": copy.deepcopy(s.approvals),
                "incidents": copy.deepcopy(s.incidents),
                "attributions": dict(s.attributions), "outbox": dict(s.outbox),
                "detections": copy.deepcopy(s.detections)}

    def domain_events(self, model: str | None = None) -> list[Any]:
        """The domain events written so far (committed), oldest first."""
        return [e for _, e in sorted(self.state.outbox.items())
                if model is None or e.model == model]

    def event_names(self, model: str | None = None) -> list[str]:
        return [type(e).__name__ for e in self.domain_events(model)]

    # Setting the scene without running a play.
    def add_version(self, model: str, prompt: str, scores: Mapping[str, float] | None = None,
                    *, parent: str | None = None, created_at: datetime | None = None,
                    artifacts: Mapping[str, bytes] | None = None, vid: str | None = None,
                    **fields: Any) -> Version:
        components = Components(prompt=prompt)
        vid = vid or version_id(components)
        stored = tuple(self.artifacts.put_bytes(model, vid, name, data)
                       for name, data in (artifacts or {}).items())
        version = Version(model=model, id=vid, components=components, owner="alice",
                          parent_id=parent, reason=f"seeded {prompt}",
                          scores=dict(scores or {}), eval_source="supplied",
                          created_at=created_at or self.clock.now(), artifacts=stored, **fields)
        with self.uow() as uow:
            uow.versions.add(version)
            uow.commit()
        return version

    def move(self, model: str, tag: str, to: str, *, actor: str = "someone",
             play: str = "promote", reason: str = "", at: datetime | None = None,
             approvers: tuple[str, ...] = ()) -> TagMoved:
        """Move a tag (compare-and-set + event) in its own transaction, as another writer."""
        with self.uow() as uow:
            before = uow.tags.get(model, tag)
            at = at or self.clock.now()
            moved = uow.tags.compare_and_set(model, tag, before.revision if before else 0, to, at)
            event = uow.events.append(TagMoved(
                model=model, tag=tag, from_version=before.version_id if before else None,
                to_version=to, revision=moved.revision, actor=actor, approvers=approvers,
                play=play, reason=reason, at=at))
            uow.commit()
        return event


def load(config: str | Mapping[str, Any] | PlaybookConfig) -> PlaybookConfig:
    if isinstance(config, PlaybookConfig):
        return config
    data = tomllib.loads(config) if isinstance(config, str) else dict(config)
    return parse_config(data)


def make_ctx(config: str | Mapping[str, Any] | PlaybookConfig, *,
             evaluator: FakeEvaluator | None = None, clock: FakeClock | None = None,
             approvers: ports.ApproverDirectory | None = None,
             store: FakeStore | None = None) -> tuple[PlayContext, Fakes]:
    """A PlayContext over fresh fakes (or over `store`, to share one database)."""
    store = store or FakeStore()
    evaluator = evaluator or FakeEvaluator()
    fakes = Fakes(store=store, uow=FakeUnitOfWorkFactory(store), clock=clock or FakeClock(),
                  evaluator=evaluator, evaluators=EvaluatorFactory(evaluator),
                  artifacts=FakeArtifactStore(), approvers=approvers or ConfigApprovers())
    ctx = PlayContext(config=load(config), uow=fakes.uow, evaluator_for=fakes.evaluators,
                      artifacts=fakes.artifacts, clock=fakes.clock, approvers=fakes.approvers,
                      make_id=SequentialIds())
    return ctx, fakes


def vid(prompt: str) -> str:
    """The id a version whose only component is `prompt` gets."""
    return version_id(Components(prompt=prompt))
