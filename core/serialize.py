"""Plain-JSON forms of domain objects, for the CLI's --json, evaluators and the HTTP API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from core.domain import (
    ApprovalRequest,
    Attribution,
    Incident,
    PlayRun,
    Tag,
    TagMoved,
    Version,
)


def ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def version(v: Version) -> dict[str, Any]:
    return {
        "model": v.model, "id": v.id, "short": v.short,
        "components": v.components.to_json(), "owner": v.owner, "parent": v.parent_id,
        "reason": v.reason, "scores": v.scores, "eval_source": v.eval_source,
        "created_at": ts(v.created_at), "kind": v.kind, "experiment": v.experiment,
        "expires_at": ts(v.expires_at),
        "artifacts": [asdict(a) for a in v.artifacts],
        "artifacts_collected_at": ts(v.artifacts_collected_at),
    }


def tag(t: Tag) -> dict[str, Any]:
    return {"model": t.model, "tag": t.name, "version": t.version_id, "revision": t.revision,
            "moved_at": ts(t.moved_at)}


def event(e: TagMoved) -> dict[str, Any]:
    return {"seq": e.seq, "model": e.model, "tag": e.tag, "from": e.from_version,
            "to": e.to_version, "revision": e.revision, "actor": e.actor,
            "approvers": list(e.approvers), "play": e.play, "reason": e.reason, "at": ts(e.at)}


def approval(r: ApprovalRequest) -> dict[str, Any]:
    return {"id": r.id, "model": r.model, "version": r.version_id, "tag": r.tag,
            "requester": r.requester, "reason": r.reason, "required": r.required,
            "status": str(r.status), "approvals": [{"approver": a.approver, "at": ts(a.at)}
                                                    for a in r.approvals],
            "created_at": ts(r.created_at), "expires_at": ts(r.expires_at),
            "production_at_request": r.production_at_request, "decided_by": r.decided_by,
            "decided_at": ts(r.decided_at), "decision_note": r.decision_note}


def incident(i: Incident) -> dict[str, Any]:
    return {"id": i.id, "model": i.model, "tag": i.tag, "bad_version": i.bad_version,
            "restored_version": i.restored_version, "symptom": i.symptom,
            "opened_by": i.opened_by, "opened_at": ts(i.opened_at),
            "rolled_back_at": ts(i.rolled_back_at), "time_to_rollback_s": i.time_to_rollback_s,
            "confirmed_at": ts(i.confirmed_at), "confirmation": i.confirmation,
            "confirm_scores": i.confirm_scores, "rehearsal": i.rehearsal,
            "detected_at": ts(i.detected), "serving_switched_at": ts(i.serving_switched_at),
            "time_to_serving_s": i.time_to_serving_s,
            "stages": [{"stage": name, "at": ts(at)} for name, at in i.stages()]}


def attribution(a: Attribution) -> dict[str, Any]:
    return {"request_id": a.request_id, "model": a.model, "version": a.version_id,
            "served_at": ts(a.served_at), "latency_ms": a.latency_ms, "error": a.error,
            "feedback": a.feedback}


def run(r: PlayRun) -> dict[str, Any]:
    return {"id": r.id, "play": r.play, "actor": r.actor, "inputs": r.inputs,
            "status": str(r.status), "error": r.error, "result": r.result,
            "started_at": ts(r.started_at), "ended_at": ts(r.ended_at),
            "request_id": r.request_id,
            "steps": [{"name": s.name, "status": str(s.status), "started_at": ts(s.started_at),
                       "ended_at": ts(s.ended_at), "output": s.output, "error": s.error}
                      for s in r.steps]}
