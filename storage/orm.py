"""Tables of the registry. Rows stay inside storage/: repositories hand out `to_domain()` only.

Writes go through Core statements built from `values(...)` dicts rather than ORM unit-of-work
objects, so conflicts surface at the call that caused them and batch inserts stay fast.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.domain import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    Artifact,
    Attribution,
    Incident,
    PlayRun,
    RunStatus,
    StepRecord,
    StepStatus,
    Tag,
    TagMoved,
    Version,
)
from core.identity import Components
from storage.columns import UTCDateTime, from_iso, iso_utc

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(),
                           list[Any]: JSON(), str: String(), float: Float()}


def _versions_fk(*cols: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(list(cols), ["versions.model", "versions.id"])


class VersionRow(Base):
    __tablename__ = "versions"

    model: Mapped[str] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(primary_key=True)
    components: Mapped[dict[str, Any]]
    owner: Mapped[str]
    parent_id: Mapped[str | None]
    reason: Mapped[str] = mapped_column(Text)
    scores: Mapped[dict[str, Any]]
    eval_source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    kind: Mapped[str]
    experiment: Mapped[str | None]
    expires_at: Mapped[datetime | None]
    artifacts: Mapped[list[Any]]
    # Kept beside the JSON list so "versions still holding artifacts" is a plain indexed query.
    artifact_count: Mapped[int] = mapped_column(Integer)
    artifacts_collected_at: Mapped[datetime | None]
    # Where it sits in its lineage, fixed when it is registered (its parent is registered
    # first and never changes): how many ancestors it has, and the first of them. Always
    # written; the defaults only let 0011_read_paths add them to SQLite tables in place.
    depth: Mapped[int] = mapped_column(Integer, server_default="0")
    root_id: Mapped[str] = mapped_column(server_default=text("''"))

    __table_args__ = (Index("ix_versions_model_created_at", "model", "created_at"),)

    @staticmethod
    def values(v: Version, *, depth: int = 0, root_id: str | None = None) -> dict[str, Any]:
        """The row of `v`; `depth` and `root_id` (default: a first version, its own root)
        come from its parent's row."""
        return {"model": v.model, "id": v.id, "components": v.components.to_json(),
                "owner": v.owner, "parent_id": v.parent_id, "reason": v.reason,
                "scores": dict(v.scores), "eval_source": v.eval_source,
                "created_at": v.created_at, "kind": v.kind, "experiment": v.experiment,
                "expires_at": v.expires_at,
                "artifacts": [{"name": a.name, "sha256": a.sha256, "size": a.size}
                              for a in v.artifacts],
                "artifact_count": len(v.artifacts),
                "artifacts_collected_at": v.artifacts_collected_at,
                "depth": depth, "root_id": root_id or v.id}

    def to_domain(self) -> Version:
        return Version(
            model=self.model, id=self.id, components=Components.from_json(self.components),
            owner=self.owner, parent_id=self.parent_id, reason=self.reason,
            scores={k: float(s) for k, s in self.scores.items()}, eval_source=self.eval_source,
            created_at=self.created_at, kind=self.kind, experiment=self.experiment,
            expires_at=self.expires_at,
            artifacts=tuple(Artifact(a["name"], a["sha256"], int(a["size"]))
                            for a in self.artifacts),
            artifacts_collected_at=self.artifacts_collected_at)


class TagRow(Base):
    __tablename__ = "tags"

    model: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    version_id: Mapped[str]
    revision: Mapped[int] = mapped_column(Integer)
    moved_at: Mapped[datetime]

    __table_args__ = (_versions_fk("model", "version_id"),)

    def to_domain(self) -> Tag:
        return Tag(model=self.model, name=self.name, version_id=self.version_id,
                   revision=self.revision, moved_at=self.moved_at)


class TagEventRow(Base):
    __tablename__ = "tag_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str]
    tag: Mapped[str]
    from_version: Mapped[str | None]
    to_version: Mapped[str]
    revision: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str]
    approvers: Mapped[list[Any]]
    play: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (
        # One event per tag revision: the history of a tag can only ever be a single chain.
        UniqueConstraint("model", "tag", "revision"),
        Index("ix_tag_events_model_tag_seq", "model", "tag", "seq"),
        Index("ix_tag_events_model_to_version", "model", "to_version"),
        Index("ix_tag_events_model_from_version", "model", "from_version"),
        # History by time: since a day ago, and what a tag pointed at when.
        Index("ix_tag_events_model_tag_at", "model", "tag", "at", "seq"),
        Index("ix_tag_events_model_at", "model", "at"),
        _versions_fk("model", "to_version"),
        _versions_fk("model", "from_version"),
    )

    @staticmethod
    def values(e: TagMoved) -> dict[str, Any]:
        return {"model": e.model, "tag": e.tag, "from_version": e.from_version,
                "to_version": e.to_version, "revision": e.revision, "actor": e.actor,
                "approvers": list(e.approvers), "play": e.play, "reason": e.reason, "at": e.at}

    def to_domain(self) -> TagMoved:
        return TagMoved(model=self.model, tag=self.tag, from_version=self.from_version,
                        to_version=self.to_version, revision=self.revision, actor=self.actor,
                        approvers=tuple(self.approvers), play=self.play, reason=self.reason,
                        at=self.at, seq=self.seq)


class ApprovalRequestRow(Base):
    __tablename__ = "approval_requests"

    id: Mapped[str] = mapped_column(primary_key=True)
    model: Mapped[str]
    version_id: Mapped[str]
    tag: Mapped[str]
    requester: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    required: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    production_at_request: Mapped[str | None]
    status: Mapped[str]
    approvals: Mapped[list[Any]]
    decided_by: Mapped[str | None]
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_approval_requests_status_model", "status", "model"),
        Index("ix_approval_requests_model_version_id", "model", "version_id"),
        _versions_fk("model", "version_id"),
    )

    @staticmethod
    def values(r: ApprovalRequest) -> dict[str, Any]:
        """Everything but `revision`, which only the optimistic-concurrency check may set."""
        return {"id": r.id, "model": r.model, "version_id": r.version_id, "tag": r.tag,
                "requester": r.requester, "reason": r.reason, "required": r.required,
                "created_at": r.created_at, "expires_at": r.expires_at,
                "production_at_request": r.production_at_request, "status": str(r.status),
                "approvals": [{"approver": a.approver, "at": iso_utc(a.at)}
                              for a in r.approvals],
                "decided_by": r.decided_by, "decided_at": r.decided_at,
                "decision_note": r.decision_note}

    def to_domain(self) -> ApprovalRequest:
        return ApprovalRequest(
            id=self.id, model=self.model, version_id=self.version_id, tag=self.tag,
            requester=self.requester, reason=self.reason, required=self.required,
            created_at=self.created_at, expires_at=self.expires_at,
            production_at_request=self.production_at_request,
            status=ApprovalStatus(self.status),
            approvals=[Approval(a["approver"], from_iso(a["at"]))
                       for a in self.approvals],
            decided_by=self.decided_by, decided_at=self.decided_at,
            decision_note=self.decision_note, revision=self.revision)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(primary_key=True)
    model: Mapped[str]
    tag: Mapped[str]
    bad_version: Mapped[str]
    restored_version: Mapped[str]
    symptom: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[str]
    opened_at: Mapped[datetime]
    rolled_back_at: Mapped[datetime]
    time_to_rollback_s: Mapped[float]
    confirmed_at: Mapped[datetime | None]
    confirmation: Mapped[str | None] = mapped_column(Text)
    confirm_scores: Mapped[dict[str, Any]]
    rehearsal: Mapped[bool] = mapped_column(Boolean)
    deploy_fingerprint: Mapped[str | None]
    detected_at: Mapped[datetime | None]
    serving_switched_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_incidents_model_opened_at", "model", "opened_at"),
        Index("ix_incidents_model_bad_version", "model", "bad_version"),
        Index("ix_incidents_model_restored_version", "model", "restored_version"),
        _versions_fk("model", "bad_version"),
        _versions_fk("model", "restored_version"),
    )

    @staticmethod
    def values(i: Incident) -> dict[str, Any]:
        return {"id": i.id, "model": i.model, "tag": i.tag, "bad_version": i.bad_version,
                "restored_version": i.restored_version, "symptom": i.symptom,
                "opened_by": i.opened_by, "opened_at": i.opened_at,
                "rolled_back_at": i.rolled_back_at, "time_to_rollback_s": i.time_to_rollback_s,
                "confirmed_at": i.confirmed_at, "confirmation": i.confirmation,
                "confirm_scores": dict(i.confirm_scores), "rehearsal": i.rehearsal,
                "deploy_fingerprint": i.deploy_fingerprint, "detected_at": i.detected_at,
                "serving_switched_at": i.serving_switched_at}

    def to_domain(self) -> Incident:
        return Incident(
            id=self.id, model=self.model, tag=self.tag, bad_version=self.bad_version,
            restored_version=self.restored_version, symptom=self.symptom,
            opened_by=self.opened_by, opened_at=self.opened_at,
            rolled_back_at=self.rolled_back_at, time_to_rollback_s=self.time_to_rollback_s,
            confirmed_at=self.confirmed_at, confirmation=self.confirmation,
            confirm_scores={k: float(s) for k, s in self.confirm_scores.items()},
            rehearsal=self.rehearsal, deploy_fingerprint=self.deploy_fingerprint,
            detected_at=self.detected_at, serving_switched_at=self.serving_switched_at)


class AttributionRow(Base):
    """The high-volume table: no foreign keys, so one stray record cannot sink a batch.

    On PostgreSQL it is partitioned by week of `served_at` (migration 0012, storage/partitions)
    and its primary key there is (request_id, served_at); the mapping's key is the request id,
    the identity every reader uses."""

    __tablename__ = "attributions"

    request_id: Mapped[str] = mapped_column(primary_key=True)
    model: Mapped[str]
    version_id: Mapped[str]
    served_at: Mapped[datetime]
    latency_ms: Mapped[float | None]
    error: Mapped[bool | None] = mapped_column(Boolean)
    feedback: Mapped[float | None]

    __table_args__ = (Index("ix_attributions_model_served_at", "model", "served_at"),)

    @staticmethod
    def values(a: Attribution) -> dict[str, Any]:
        return {"request_id": a.request_id, "model": a.model, "version_id": a.version_id,
                "served_at": a.served_at, "latency_ms": a.latency_ms, "error": a.error,
                "feedback": a.feedback}

    def to_domain(self) -> Attribution:
        return Attribution(request_id=self.request_id, model=self.model,
                           version_id=self.version_id, served_at=self.served_at,
                           latency_ms=self.latency_ms, error=self.error, feedback=self.feedback)


class PlayRunRow(Base):
    __tablename__ = "play_runs"

    id: Mapped[str] = mapped_column(primary_key=True)
    play: Mapped[str]
    actor: Mapped[str]
    inputs: Mapped[dict[str, Any]]
    status: Mapped[str]
    steps: Mapped[list[Any]]
    result: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    request_id: Mapped[str | None]

    __table_args__ = (Index("ix_play_runs_play_started_at", "play", "started_at"),
                      Index("ix_play_runs_started_at", "started_at"))

    @staticmethod
    def values(r: PlayRun) -> dict[str, Any]:
        return {"id": r.id, "play": r.play, "actor": r.actor, "inputs": r.inputs,
                "status": str(r.status),
                "steps": [{"name": s.name, "status": str(s.status),
                           "started_at": iso_utc(s.started_at),
                           "ended_at": iso_utc(s.ended_at), "output": s.output,
                           "error": s.error} for s in r.steps],
                "result": r.result, "error": r.error, "started_at": r.started_at,
                "ended_at": r.ended_at, "request_id": r.request_id}

    def to_domain(self) -> PlayRun:
        return PlayRun(
            id=self.id, play=self.play, actor=self.actor, inputs=self.inputs,
            started_at=self.started_at, status=RunStatus(self.status),
            steps=[StepRecord(s["name"], StepStatus(s["status"]),
                              from_iso(s["started_at"]),
                              from_iso(s["ended_at"]), s["output"], s["error"])
                   for s in self.steps],
            result=self.result, error=self.error, ended_at=self.ended_at,
            request_id=self.request_id)


# The Slack app's, the HTTP API's, the scheduler's and the alerts' tables join Base.metadata.
import storage.orm_counters  # noqa: E402
import storage.orm_detections  # noqa: E402
import storage.orm_outbox  # noqa: E402
import storage.orm_scheduler  # noqa: E402
import storage.orm_schema  # noqa: E402
import storage.orm_slack  # noqa: E402,F401
from storage import orm_api  # noqa: E402,F401
