"""The things the registry keeps. Plain dataclasses; storage converts its rows into these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from core.identity import Components, short

PRODUCTION = "production"
CANARY = "canary"
REHEARSAL = "rehearsal"
EXPERIMENT_PREFIX = "experiment/"


@dataclass(frozen=True)
class Artifact:
    """A heavy file kept in the content-addressed store for one version."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Version:
    model: str
    id: str
    components: Components
    owner: str
    parent_id: str | None
    reason: str
    scores: dict[str, float]
    eval_source: str
    created_at: datetime
    kind: str = "release"  # release | experiment
    experiment: str | None = None
    expires_at: datetime | None = None  # experiments: end of their retention window
    artifacts: tuple[Artifact, ...] = ()
    artifacts_collected_at: datetime | None = None

    @property
    def short(self) -> str:
        return short(self.model, self.id)

    @property
    def artifact_bytes(self) -> int:
        return sum(a.size for a in self.artifacts)


# A request id sent again within this of its first record's served time is the same record (a
# retry), wherever it is stored; beyond it, a store that partitions by time may keep both.
ATTRIBUTION_RETRY_WINDOW = timedelta(days=1)
LINEAGE_SHOWN = 20  # the nearest ancestors an audit answer lists unless asked for more

# Upper bounds (seconds) of the time-to-rollback histogram that /metrics shows; the registry
# keeps a count per bucket as incidents are opened (storage/repositories/counters.py).
TIME_TO_ROLLBACK_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class RollbackSeconds:
    """A model's real (not rehearsed) times to rollback, as a histogram: how many fell in each
    of TIME_TO_ROLLBACK_BUCKETS (not cumulative) and above the last, their sum and count."""

    per_bucket: tuple[int, ...]  # len(TIME_TO_ROLLBACK_BUCKETS) + 1: the last is above all
    total_s: float

    @property
    def count(self) -> int:
        return sum(self.per_bucket)

    @staticmethod
    def bucket_of(seconds: float) -> int:
        return next((i for i, bound in enumerate(TIME_TO_ROLLBACK_BUCKETS) if seconds <= bound),
                    len(TIME_TO_ROLLBACK_BUCKETS))


@dataclass(frozen=True)
class Ancestor:
    """A version as its lineage shows it: who made it, why and when, how deep it sits and
    which version its chain starts from. Read without its components, so a chain of 10,000
    costs little."""

    model: str
    id: str
    owner: str
    reason: str
    created_at: datetime
    depth: int  # how many ancestors it has: 0 for the first version of a chain
    root_id: str  # the first version of its chain (itself when depth is 0)

    @property
    def short(self) -> str:
        return short(self.model, self.id)


@dataclass(frozen=True)
class Tag:
    model: str
    name: str
    version_id: str
    revision: int
    moved_at: datetime


@dataclass(frozen=True)
class TagMoved:
    """An append-only event: one move of one tag. Never updated, never deleted."""

    model: str
    tag: str
    from_version: str | None
    to_version: str
    revision: int  # the tag's revision after this move; 1 for the first
    actor: str
    approvers: tuple[str, ...]
    play: str
    reason: str
    at: datetime
    seq: int | None = None  # assigned by the log


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Approval:
    approver: str
    at: datetime


@dataclass
class ApprovalRequest:
    id: str
    model: str
    version_id: str
    tag: str
    requester: str
    reason: str
    required: int
    created_at: datetime
    expires_at: datetime
    production_at_request: str | None
    status: ApprovalStatus = ApprovalStatus.PENDING
    approvals: list[Approval] = field(default_factory=list)
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    revision: int = 0  # optimistic concurrency: save() fails if someone saved meanwhile

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(a.approver for a in self.approvals)


@dataclass
class Incident:
    id: str
    model: str
    tag: str
    bad_version: str
    restored_version: str
    symptom: str
    opened_by: str
    opened_at: datetime
    rolled_back_at: datetime
    time_to_rollback_s: float
    confirmed_at: datetime | None = None
    confirmation: str | None = None  # passed | failed | error: <why>
    confirm_scores: dict[str, float] = field(default_factory=dict)
    rehearsal: bool = False
    deploy_fingerprint: str | None = None  # a rehearsal: the deploy path it exercised
    # When the trouble was noticed (an alert's start, or the on-call's word); None: when the
    # rollback was ordered. `time_to_rollback_s` counts from it to the tag's move.
    detected_at: datetime | None = None
    # The first request served by the restored version after the move: users got the good
    # version from then on (None: no such request seen yet).
    serving_switched_at: datetime | None = None

    @property
    def detected(self) -> datetime:
        return self.detected_at or self.opened_at

    def stages(self) -> list[tuple[str, datetime | None]]:
        """The five stages of a rollback, in order; None where not reached (yet)."""
        return [("detected", self.detected), ("decided", self.opened_at),
                ("tag moved", self.rolled_back_at), ("serving switched", self.serving_switched_at),
                ("confirmed", self.confirmed_at)]

    @property
    def time_to_serving_s(self) -> float | None:
        """Detected to serving switched: how long users got the bad version's answers."""
        if self.serving_switched_at is None:
            return None
        return (self.serving_switched_at - self.detected).total_seconds()

    def over_budget(self, budget_s: float) -> bool:
        """Over `max_time_to_rollback_s`: detected to serving switched once known, until
        then detected to the tag's move (already over is over)."""
        served = self.time_to_serving_s
        return (served if served is not None else self.time_to_rollback_s) > budget_s

    def slowest_stage(self) -> tuple[str, float] | None:
        """The longest step up to serving switched (or the tag's move, until then), as
        ("detected -> decided", seconds)."""
        reached = [(name, t) for name, t in self.stages()[:4] if t is not None]
        steps = [(f"{a} -> {b}", (tb - ta).total_seconds())
                 for (a, ta), (b, tb) in pairwise(reached)]
        return max(steps, key=lambda s: s[1]) if steps else None


@dataclass
class Detection:
    """An incident as monitoring opened it: an alert fired for a model, and nobody has decided
    yet. The on-call rolls back (play 3 opens the `Incident`, linked here), or dismisses it;
    the alert's own resolution is recorded apart from that decision. One per alert
    fingerprint at a time: the same alert again updates it, and one that fires again soon
    after resolving (flapping) reopens it rather than opening another."""

    id: str
    model: str
    fingerprint: str
    source: str  # alertmanager | grafana | generic
    name: str  # the alert's name (alertname)
    summary: str
    url: str | None
    status: str  # firing | resolved (the alert's)
    state: str  # detected | rolled_back | dismissed (the on-call's decision)
    started_at: datetime  # when the alert says it started firing (else when it first came)
    received_at: datetime
    updated_at: datetime
    suspect_version: str | None  # production when it was detected
    fired: int = 1  # notifications of it firing received
    flaps: int = 0  # times it fired again after resolving
    resolved_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    incident_id: str | None = None  # the rollback's incident
    verdict: str = ""  # the investigation run when it was detected ("" until it reports)


@dataclass(frozen=True)
class Attribution:
    request_id: str
    model: str
    version_id: str
    served_at: datetime
    latency_ms: float | None = None
    error: bool | None = None
    feedback: float | None = None


class StepStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class RunStatus(StrEnum):
    RUNNING = "running"  # recorded at its start; a process that died leaves it so
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class StepRecord:
    name: str
    status: StepStatus
    started_at: datetime
    ended_at: datetime
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class PlayRun:
    id: str
    play: str
    actor: str
    inputs: dict[str, Any]
    started_at: datetime
    status: RunStatus = RunStatus.SUCCEEDED
    steps: list[StepRecord] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    ended_at: datetime | None = None
    request_id: str | None = None  # the request that started it (X-Request-ID, Slack's id)
