"""The ports of the records written once and read by audits: incidents (and the detections
monitoring opens), attributions, play runs (storage/repositories/records.py implements them).
Import them from core.ports, with every other port."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Protocol

from core.domain import Attribution, Detection, Incident, PlayRun


class IncidentRepository(Protocol):
    def add(self, incident: Incident) -> None: ...
    def get(self, incident_id: str) -> Incident | None: ...
    def save(self, incident: Incident) -> None: ...
    def list(self, model: str | None = None, *, limit: int = 50,
             since: datetime | None = None,
             rehearsal: bool | None = None) -> builtins.list[Incident]:
        """Newest first; `since` bounds opened_at, `rehearsal` keeps drills or real ones."""
        ...
    def for_version(self, model: str, version_id: str) -> builtins.list[Incident]: ...
    def unconfirmed(self, opened_before: datetime) -> builtins.list[Incident]:
        """Incidents whose confirming eval never reported, opened before the time, oldest
        first."""
        ...
    def mark_serving_switched(self, incident_id: str, at: datetime) -> bool:
        """Record serving switched at `at` unless an earlier time is recorded already;
        whether it changed. A `save` never erases it (a copy read before it was recorded,
        like the confirming eval's, keeps it)."""
        ...
    def awaiting_switch(self, model: str, since: datetime) -> builtins.list[Incident]:
        """The model's incidents opened since `since` that no request served by the
        restored version has been seen for yet, oldest first."""
        ...


class DetectionRepository(Protocol):
    def add(self, detection: Detection) -> None: ...
    def get(self, detection_id: str) -> Detection | None: ...
    def lock(self, model: str, fingerprint: str) -> None:
        """Hold this alert until the unit of work ends, so two deliveries of it at once
        (Alertmanager's HA peers, two replicas) never open two incidents."""
        ...
    def save_alert(self, detection: Detection) -> None:
        """Store what the alert says (status, counts, summary, resolved_at, updated_at) and
        nothing of the on-call's decision, which `decide` alone changes."""
        ...
    def decide(self, detection_id: str, *, expected: str, state: str, by: str | None,
               at: datetime, incident_id: str | None = None) -> bool:
        """Move the decision from `expected` to `state`; False (nothing changed) when it is
        no longer `expected`: someone else decided first."""
        ...
    def set_verdict(self, detection_id: str, verdict: str) -> None: ...
    def latest(self, model: str, fingerprint: str) -> Detection | None:
        """The newest detection of this alert of this model."""
        ...
    def list(self, model: str | None = None, *, limit: int = 50) -> builtins.list[Detection]:
        """Newest first."""
        ...


class AttributionRepository(Protocol):
    def add_many(self, records: Sequence[Attribution]) -> int:
        """Insert new records; request ids already stored are skipped. Returns how many were new."""
        ...
    def add_new(self, records: Sequence[Attribution]) -> builtins.list[str]:
        """As add_many, answering the request ids that were new."""
        ...
    def count_outside(self, model: str, version_id: str, day: date, n: int) -> int:
        """Add `n` requests `version_id` served on `day` (UTC) while no tag of the model
        pointed at it; answers the day's total for that version."""
        ...
    def outside(self, since: date,
                model: str | None = None) -> builtins.list[tuple[str, str, date, int]]:
        """(model, version id, day, requests) served outside the registry since `since`, of
        one model when given."""
        ...
    def get(self, request_id: str) -> Attribution | None: ...
    def served_by(self, request_ids: Collection[str], around: tuple[datetime, datetime] | None
                  = None) -> dict[str, tuple[str, str]]:
        """request id -> (model, version id), for those of these ids already recorded.
        `around`: when the records of interest were served; a store whose lookups cost more
        the more history they search (PostgreSQL's weekly partitions) searches only that."""
        ...
    def count(self, model: str, since: datetime, until: datetime) -> int:
        """How many requests of `model` were attributed with since <= served_at < until."""
        ...


class RunRepository(Protocol):
    def add(self, run: PlayRun) -> None: ...
    def save(self, run: PlayRun) -> None:
        """Store a run added at its start as it is now (its steps, status, end)."""
        ...
    def get(self, run_id: str) -> PlayRun | None: ...
    def running(self, started_before: datetime) -> builtins.list[PlayRun]:
        """Runs still `running` that started before the given time, oldest first."""
        ...
    def list(self, *, play: str | None = None, limit: int = 20) -> builtins.list[PlayRun]: ...
