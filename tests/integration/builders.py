"""Domain objects with every field set to something distinctive, so a round-trip that drops
or mangles a field shows up."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from core.domain import (
    Approval,
    ApprovalRequest,
    ApprovalStatus,
    Artifact,
    Incident,
    PlayRun,
    RunStatus,
    StepRecord,
    StepStatus,
    TagMoved,
    Version,
)
from core.identity import ArtifactRef, Components, version_id

T0 = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
# A non-UTC offset in, UTC out: storage must normalise, never drop, the offset.
IST = timezone(timedelta(hours=5, minutes=30))


def components(n: int) -> Components:
    return Components(
        weights=ArtifactRef(f"ft:model-{n}", hashlib.sha256(str(n).encode()).hexdigest()),
        prompt=f"You are helper number {n}. Ünïcode ok.",
        config={"temperature": 0.25, "max_tokens": 512, "tools": ["search", n],
                "nested": {"a": None, "b": True}},
        index=ArtifactRef(f"s3://idx/{n}"),
    )


def version(n: int, model: str = "chat", **overrides: object) -> Version:
    comps = components(n)
    fields: dict[str, object] = dict(
        model=model, id=version_id(comps), components=comps, owner="alice",
        parent_id=None, reason=f"reason {n}", scores={"accuracy": 0.5 + n / 1000, "cost": 3.0},
        eval_source="supplied", created_at=T0 + timedelta(minutes=n), kind="release",
        experiment=None, expires_at=None,
        artifacts=(Artifact("weights.bin", "ab" * 32, 1234), Artifact("tok.json", "cd" * 32, 5)),
        artifacts_collected_at=None,
    )
    fields.update(overrides)
    return Version(**fields)  # type: ignore[arg-type]


def moved(v_from: Version | None, v_to: Version, revision: int, *, tag: str = "production",
          play: str = "promote", at: datetime = T0) -> TagMoved:
    return TagMoved(model=v_to.model, tag=tag,
                    from_version=v_from.id if v_from else None, to_version=v_to.id,
                    revision=revision, actor="bob", approvers=("carol", "dave"), play=play,
                    reason=f"to r{revision}", at=at)


def approval_request(v: Version, request_id: str = "apr-1") -> ApprovalRequest:
    return ApprovalRequest(
        id=request_id, model=v.model, version_id=v.id, tag="production", requester="alice",
        reason="better accuracy", required=2, created_at=T0, expires_at=T0 + timedelta(hours=4),
        production_at_request=None, status=ApprovalStatus.PENDING,
        approvals=[Approval("carol", T0.astimezone(IST))], decided_by=None, decided_at=None,
        decision_note=None)


def incident(bad: Version, good: Version, incident_id: str = "inc-1") -> Incident:
    return Incident(
        id=incident_id, model=bad.model, tag="production", bad_version=bad.id,
        restored_version=good.id, symptom="answers in Klingon", opened_by="oncall",
        opened_at=T0, rolled_back_at=T0 + timedelta(seconds=42), time_to_rollback_s=42.5,
        confirmed_at=T0 + timedelta(minutes=3), confirmation="passed",
        confirm_scores={"accuracy": 0.91}, rehearsal=True)


def play_run(run_id: str = "run-1", play: str = "promote",
             started_at: datetime = T0) -> PlayRun:
    return PlayRun(
        id=run_id, play=play, actor="alice", inputs={"model": "chat", "version": "abc"},
        started_at=started_at, status=RunStatus.FAILED,
        steps=[StepRecord("gate", StepStatus.OK, started_at, started_at + timedelta(seconds=1),
                          {"delta": 0.01}),
               StepRecord("move tag", StepStatus.FAILED, started_at.astimezone(IST),
                          started_at + timedelta(seconds=2), {}, "tag moved meanwhile")],
        result={"ok": False}, error="step 'move tag': tag moved meanwhile",
        ended_at=started_at + timedelta(seconds=3))
