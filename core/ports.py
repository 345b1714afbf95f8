"""What the play engine needs stored: the repositories and the unit of work (storage/ and
the fakes implement them). The ports to the rest of the world are in core/surfaces.py, named
here too so `core.ports` stays the one place to import a port from."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, Self

from core.access import ApiToken, StoredResponse
from core.canary import ArmSample, CanaryState
from core.domain import (
    Ancestor,
    ApprovalRequest,
    RollbackSeconds,
    Tag,
    TagMoved,
    Version,
)

# The records written once and read by audits (incidents, detections, attributions, runs),
# importable from here as every other repository.
from core.ports_records import AttributionRepository as AttributionRepository
from core.ports_records import DetectionRepository as DetectionRepository
from core.ports_records import IncidentRepository as IncidentRepository
from core.ports_records import RunRepository as RunRepository


@dataclass(frozen=True)
class Received:
    """What the inbox says of a request as it arrives (see ChatRecords.receive)."""

    state: Literal["new", "taken_over", "in_flight", "handled"]
    effect: str | None = None  # a taken-over request's change that committed already


if TYPE_CHECKING:
    from core.events import Event
    from core.outbox import Delivery, DeliveryState
    from core.scheduled import JobClaim


class VersionRepository(Protocol):
    def add(self, version: Version) -> None: ...
    def get(self, model: str, version_id: str) -> Version | None: ...
    def ids_with_prefix(self, model: str, prefix: str, limit: int = 6) -> builtins.list[str]: ...
    def list(self, model: str, *, limit: int = 50,
             kind: str | None = None) -> builtins.list[Version]:
        """Newest first."""
        ...
    def with_live_artifacts(self, model: str | None = None) -> builtins.list[Version]:
        """Versions that still hold artifacts (candidates for garbage collection)."""
        ...
    def mark_artifacts_collected(self, model: str, version_id: str, at: datetime) -> None: ...
    def ancestry(self, model: str, version_id: str,
                 limit: int | None = None) -> builtins.list[Ancestor]:
        """The version and its ancestors, nearest first, at most `limit` of them (all when
        None); empty when the version is not registered. One query, whatever the depth: the
        first answer's depth and root say how long the whole chain is and where it starts.
        A parent that is not registered ends the chain."""
        ...


class TagRepository(Protocol):
    def get(self, model: str, tag: str) -> Tag | None: ...
    def list(self, model: str | None = None) -> builtins.list[Tag]: ...
    def compare_and_set(self, model: str, tag: str, expected_revision: int, version_id: str,
                        at: datetime) -> Tag:
        """Point `tag` at `version_id` if its revision is still `expected_revision` (0: absent).

        Raises TagMovedMeanwhile when someone else moved it first.
        """
        ...


class EventLog(Protocol):
    def append(self, event: TagMoved) -> TagMoved: ...
    def history(self, model: str, tag: str | None = None, *, since: datetime | None = None,
                until: datetime | None = None, before_seq: int | None = None,
                play: str | None = None, limit: int | None = None,
                newest_first: bool = False) -> builtins.list[TagMoved]:
        """Events of a model (optionally one tag / one play), by seq; `until` is inclusive.
        With a time bound and a `limit`, the events kept are those nearest the bound by time
        (then seq): `until=T, limit=1, newest_first=True` is the last move at or before T."""
        ...
    def touching(self, model: str, version_id: str) -> builtins.list[TagMoved]:
        """Every event whose from or to is this version, oldest first."""
        ...
    def ever_pointed(self, model: str, tag: str, version_id: str) -> bool: ...
    def rolled_back_from(self, model: str, tag: str,
                         version_ids: Collection[str]) -> builtins.set[str]:
        """Which of these versions a rollback of this tag has moved away from."""
        ...


class ApprovalRepository(Protocol):
    def add(self, request: ApprovalRequest) -> None: ...
    def get(self, request_id: str) -> ApprovalRequest | None: ...
    def save(self, request: ApprovalRequest) -> None: ...
    def pending(self, model: str | None = None) -> builtins.list[ApprovalRequest]: ...
    def for_version(self, model: str, version_id: str) -> builtins.list[ApprovalRequest]: ...


class Outbox(Protocol):
    """Events on their way to their handlers; written in the play's own transaction."""

    def add(self, event: Event) -> None:
        """Store the event and one pending delivery per handler subscribed to it."""
        ...
    def claim(self, handlers: Collection[str], owner: str, now: datetime,
              lease_until: datetime, limit: int) -> builtins.list[Delivery]:
        """Due deliveries of these handlers, leased to `owner`, oldest event first; per
        handler and model, none while an earlier one is still pending. A delivery never tried
        is due whatever the clocks say (the writer's clock may run ahead of ours); a retry is
        due at its next_attempt_at."""
        ...
    def done(self, event_seq: int, handler: str, owner: str, at: datetime) -> None: ...
    def failed(self, event_seq: int, handler: str, owner: str, error: str,
               retry_at: datetime | None, at: datetime) -> None:
        """Pending again from `retry_at`, or dead when it is None."""
        ...
    def renew(self, event_seq: int, handler: str, owner: str, lease_until: datetime) -> bool:
        """Extend `owner`'s lease; False when it is no longer theirs (taken over, done)."""
        ...
    def skip(self, handlers: Collection[str], at: datetime, *, after_seq: int = 0,
             subjects: Collection[str] | None = None) -> int:
        """Close the pending deliveries of these handlers (of events after `after_seq`, about
        `subjects` when given: core.events.subject_of): an
        operator's decision for handlers the deployment does not run (`playbook outbox
        skip HANDLER`), or history that is not news (the sandbox's seed)."""
        ...
    def retry(self, event_seq: int | None, at: datetime) -> int:
        """Dead deliveries (of one event, or all) pending again, due at once."""
        ...
    def list(self, *, states: Collection[DeliveryState] = ("pending", "dead"),
             limit: int = 100) -> builtins.list[Delivery]:
        """Oldest event first."""
        ...
    def counts(self) -> dict[tuple[str, str], int]:
        """(handler, state) -> how many deliveries."""
        ...
    def last_seq(self) -> int:
        """The seq of the newest event written (0: none yet)."""
        ...
    def events(self, *, model: str | None = None, name: str | None = None,
               after_seq: int = 0, limit: int = 100) -> builtins.list[tuple[int, Event]]:
        """(seq, event) written after `after_seq`, oldest first; delivered or not, with or
        without subscribers."""
        ...


class CanaryRepository(Protocol):
    """The `canary` tag's traffic slice per model, and the outcomes serving reported."""

    def get(self, model: str) -> CanaryState | None: ...
    def put(self, state: CanaryState) -> None:
        """Replace the model's slice (one canary per model, like its tag)."""
        ...
    def end(self, model: str, at: datetime) -> CanaryState:
        """Raises NotFound when no slice is running."""
        ...
    def outcomes(self, model: str, version_id: str, since: datetime) -> ArmSample:
        """What attributions of this version since `since` say about errors, latency and
        feedback."""
        ...


class TokenRepository(Protocol):
    def add(self, token: ApiToken, token_hash: str) -> None: ...
    def by_hash(self, token_hash: str) -> ApiToken | None: ...
    def list(self, *, include_revoked: bool = False) -> builtins.list[ApiToken]:
        """Oldest first."""
        ...
    def revoke(self, id_or_name: str, at: datetime) -> builtins.list[ApiToken]:
        """Revoke the token with this id, or every live token with this name; NotFound when
        there is none."""
        ...
    def touch(self, token_id: str, at: datetime) -> None:
        """Remember that a server accepted the token at `at` (a later time only)."""
        ...


class IdempotencyRepository(Protocol):
    """Idempotency-Keys of the HTTP API, per scope (the token): of two requests racing with
    one key exactly one claims it."""

    def claim(self, scope: str, key: str, fingerprint: str,
              at: datetime) -> StoredResponse | None:
        """Claim the key for a new request (None), or answer what already holds it."""
        ...
    def take_over(self, scope: str, key: str, seen: datetime, at: datetime) -> bool:
        """Re-claim a claim, created at `seen`, whose request never finished."""
        ...
    def complete(self, scope: str, key: str, status: int, body: str) -> None: ...
    def get(self, scope: str, key: str) -> StoredResponse | None: ...
    def mark_effect(self, scope: str, key: str, effect: str) -> None:
        """Remember what the key's request changed, in the transaction of the change; only
        the first change is kept."""
        ...
    def release(self, scope: str, key: str) -> None: ...
    def purge(self, before: datetime) -> int: ...


class StatsQueries(Protocol):
    """Registry-wide figures for /metrics: totals kept as the history is written, so a
    scrape costs the same at any size of history."""

    def tag_moves(self) -> builtins.list[tuple[str, str, str, int]]:
        """(model, tag, play, moves)."""
        ...
    def rollback_seconds(self) -> dict[str, RollbackSeconds]:
        """Per model, the histogram of its real (not rehearsed) incidents' time to
        rollback."""
        ...
    def ping(self) -> None:
        """Raises StorageError when the database does not answer."""
        ...
    def route_watermark(self) -> str:
        """Changes whenever any model's route may have: a tag moved, a canary started or
        ended (cheap: read every second by servers that stream routes)."""
        ...


class JobClaims(Protocol):
    """Who runs each slot of a scheduled job: of several replicas, the one that claims
    (job, scheduled time) first; a claim left unfinished past the timeout is taken over by
    exactly one other. Times are compared as instants, to the second (`core.scheduled.slot`).
    The rules (when to give up) are `core.scheduled.Once`'s; this only stores claims."""

    def claim(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
              timeout: timedelta) -> bool:
        """True when `owner` may run it: first to claim, or taking over a claim left
        unfinished for longer than `timeout` (attempts + 1)."""
        ...
    def finish(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               outcome: str) -> bool:
        """False when another owner had taken the claim over meanwhile."""
        ...
    def failed(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               outcome: str, *, close: bool) -> bool:
        """Keep why it failed; `close` ends the claim for good. False (and nothing changed)
        unless `owner` still holds an unfinished claim."""
        ...
    def close(self, job: str, scheduled_at: datetime, now: datetime, outcome: str) -> None:
        """End an unfinished claim that nothing can run any more."""
        ...
    def get(self, job: str, scheduled_at: datetime) -> JobClaim | None: ...
    def stale(self, now: datetime, timeout: timedelta,
              limit: int = 100) -> builtins.list[JobClaim]:
        """Unfinished claims older than the timeout, by slot, then job."""
        ...
    def last_done(self, job: str) -> JobClaim | None: ...


class ChatRecords(Protocol):
    """What the chat surface (Slack) must remember: its inbox of requests (recorded before
    they are acknowledged, held under a lease while their work runs, handled when it is
    done) and where each message about something lives (to update it or reply in its
    thread)."""

    def receive(self, key: str, kind: str, payload: str, owner: str, now: datetime,
                lease_until: datetime) -> Received:
        """Record a request, or find it: `new` and `taken_over` (its lease had run out, its
        replica is gone) are `owner`'s to handle now; `in_flight` and `handled` are not."""
        ...
    def renew(self, keys: Collection[str], owner: str, lease_until: datetime) -> int:
        """Extend the leases `owner` still holds; answers how many."""
        ...
    def handled(self, key: str, owner: str, at: datetime) -> bool:
        """Its work is done (False: another replica had taken it over)."""
        ...
    def unhandled(self, now: datetime, limit: int = 20) -> builtins.list[tuple[str, str]]:
        """(key, payload) of requests whose lease ran out before they were handled."""
        ...
    def mark_effect(self, key: str, effect: str) -> None:
        """Remember the request's first committed change, in that change's transaction."""
        ...
    def prune_deliveries(self, before: datetime) -> int: ...
    def remember(self, kind: str, key: str, channel: str, ts: str, at: datetime) -> None:
        """Where the message about (kind, key) lives; a later one replaces it."""
        ...
    def message(self, kind: str, key: str) -> tuple[str, str] | None:
        """(channel, ts) of the message about (kind, key), if any."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it commits together or not at all."""

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

    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Rolls back whatever was not committed."""
        ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work. A `read_only` one only reads: on SQLite it starts a deferred
    transaction, so it never queues behind a writer (WAL gives it a snapshot), and it refuses
    to write or commit a change. Every other one may write; on SQLite it takes the write lock
    when it begins, so a read that turns into a write never fails half-way."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


# The ports to the world beyond the records (core/surfaces.py), importable from here as before.
from core.surfaces import ApproverDirectory as ApproverDirectory  # noqa: E402
from core.surfaces import ArtifactStore as ArtifactStore  # noqa: E402
from core.surfaces import Clock as Clock  # noqa: E402
from core.surfaces import Evaluator as Evaluator  # noqa: E402
from core.surfaces import EvaluatorFactory as EvaluatorFactory  # noqa: E402
from core.surfaces import Notifier as Notifier  # noqa: E402
