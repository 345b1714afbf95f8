"""The fake record repositories: approvals, incidents, attributions and play runs (as
storage/repositories/approvals.py and records.py are to the SQL ones)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from fake_state import FakeRepo, State

from core import ports
from core.domain import (
    ApprovalRequest,
    ApprovalStatus,
    Attribution,
    Detection,
    Incident,
    PlayRun,
    RunStatus,
)
from core.errors import AlreadyExists, Conflict, NotFound


class FakeApprovalRepository(FakeRepo, ports.ApprovalRepository):
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


class FakeIncidentRepository(FakeRepo, ports.IncidentRepository):
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
            before = s.incidents[incident.id].serving_switched_at
            if before is not None:  # a recorded stage is never erased
                stored.serving_switched_at = before
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

    def mark_serving_switched(self, incident_id: str, at: datetime) -> bool:
        found = self._s.incidents.get(incident_id)
        if found is None or (found.serving_switched_at is not None
                             and found.serving_switched_at <= at):
            return False

        def op(s: State) -> None:
            s.incidents[incident_id] = replace(s.incidents[incident_id],
                                               serving_switched_at=at)

        self._write("incidents.mark_serving_switched", op)
        return True

    def awaiting_switch(self, model: str, since: datetime) -> builtins.list[Incident]:
        found = [copy.deepcopy(i) for i in self._s.incidents.values()
                 if i.model == model and i.opened_at >= since and i.serving_switched_at is None]
        return sorted(found, key=lambda i: (i.opened_at, i.id))

    def unconfirmed(self, opened_before: datetime) -> builtins.list[Incident]:
        found = [copy.deepcopy(i) for i in self._s.incidents.values()
                 if i.confirmation is None and i.opened_at < opened_before]
        return sorted(found, key=lambda i: (i.opened_at, i.id))[:100]


class FakeDetectionRepository(FakeRepo, ports.DetectionRepository):
    def add(self, detection: Detection) -> None:
        stored = copy.deepcopy(detection)

        def op(s: State) -> None:
            if detection.id in s.detections:
                raise AlreadyExists(f"detection {detection.id} exists")
            s.detections[detection.id] = stored

        self._write("detections.add", op)

    def get(self, detection_id: str) -> Detection | None:
        found = self._s.detections.get(detection_id)
        return copy.deepcopy(found) if found else None

    def lock(self, model: str, fingerprint: str) -> None:
        return None  # the fakes' writers never overlap

    def _change(self, detection_id: str, operation: str, **values: Any) -> None:
        def op(s: State) -> None:
            if detection_id not in s.detections:
                raise NotFound(f"no detection {detection_id!r}")
            s.detections[detection_id] = replace(s.detections[detection_id], **values)

        self._write(operation, op)

    def save_alert(self, detection: Detection) -> None:
        d = detection
        self._change(d.id, "detections.save_alert", status=d.status, fired=d.fired,
                     flaps=d.flaps, summary=d.summary, resolved_at=d.resolved_at,
                     updated_at=d.updated_at)

    def decide(self, detection_id: str, *, expected: str, state: str, by: str | None,
               at: datetime, incident_id: str | None = None) -> bool:
        found = self._s.detections.get(detection_id)
        if found is None or found.state != expected:
            return False
        self._change(detection_id, "detections.decide", state=state, decided_by=by,
                     decided_at=at, updated_at=at, incident_id=incident_id)
        return True

    def set_verdict(self, detection_id: str, verdict: str) -> None:
        self._change(detection_id, "detections.set_verdict", verdict=verdict)

    def latest(self, model: str, fingerprint: str) -> Detection | None:
        found = self.list(model)
        return next((d for d in found if d.fingerprint == fingerprint), None)

    def list(self, model: str | None = None, *, limit: int = 50) -> builtins.list[Detection]:
        found = [copy.deepcopy(d) for d in self._s.detections.values()
                 if model is None or d.model == model]
        found.sort(key=lambda d: (d.received_at, d.id), reverse=True)
        return found[:limit]


class FakeAttributionRepository(FakeRepo, ports.AttributionRepository):
    def add_many(self, records: Sequence[Attribution]) -> int:
        return len(self.add_new(records))

    def add_new(self, records: Sequence[Attribution]) -> builtins.list[str]:
        new: dict[str, Attribution] = {}
        for r in records:
            if r.request_id not in self._s.attributions and r.request_id not in new:
                new[r.request_id] = r

        def op(s: State) -> None:
            for rid, r in new.items():
                s.attributions.setdefault(rid, r)

        self._write("attributions.add_many", op)
        return list(new)

    def count_outside(self, model: str, version_id: str, day: date, n: int) -> int:
        key = (model, version_id, day)
        total = self._s.outside.get(key, 0) + n

        def op(s: State) -> None:
            s.outside[key] = s.outside.get(key, 0) + n

        self._write("attributions.count_outside", op)
        return total

    def outside(self, since: date,
                model: str | None = None) -> builtins.list[tuple[str, str, date, int]]:
        return sorted((m, v, d, n) for (m, v, d), n in self._s.outside.items()
                      if d >= since and (model is None or m == model))

    def get(self, request_id: str) -> Attribution | None:
        return self._s.attributions.get(request_id)

    def served_by(self, request_ids: Collection[str], around: tuple[datetime, datetime] | None
                  = None) -> dict[str, tuple[str, str]]:
        return {rid: (a.model, a.version_id) for rid in request_ids
                if (a := self._s.attributions.get(rid)) is not None}

    def count(self, model: str, since: datetime, until: datetime) -> int:
        return sum(1 for a in self._s.attributions.values()
                   if a.model == model and since <= a.served_at < until)


class FakeRunRepository(FakeRepo, ports.RunRepository):
    def add(self, run: PlayRun) -> None:
        stored = copy.deepcopy(run)

        def op(s: State) -> None:
            if run.id in s.runs:
                raise AlreadyExists(f"run {run.id} exists")
            s.runs[run.id] = stored

        self._write("runs.add", op)

    def save(self, run: PlayRun) -> None:
        if run.id not in self._s.runs:
            raise NotFound(f"play run {run.id} was never recorded")
        stored = copy.deepcopy(run)

        def op(s: State) -> None:  # to the end: Fakes.runs lists runs as they finished
            s.runs.pop(run.id, None)
            s.runs[run.id] = stored

        self._write("runs.save", op)

    def get(self, run_id: str) -> PlayRun | None:
        found = self._s.runs.get(run_id)
        return copy.deepcopy(found) if found else None

    def running(self, started_before: datetime) -> builtins.list[PlayRun]:
        found = [copy.deepcopy(r) for r in self._s.runs.values()
                 if r.status == RunStatus.RUNNING and r.started_at < started_before]
        return sorted(found, key=lambda r: (r.started_at, r.id))[:100]

    def list(self, *, play: str | None = None, limit: int = 20) -> builtins.list[PlayRun]:
        found = [copy.deepcopy(r) for r in self._s.runs.values() if play is None or r.play == play]
        found.reverse()
        return found[:limit]
