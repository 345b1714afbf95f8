"""Plays 2 and 3 over HTTP: promote (with or without a canary), approve, reject, roll back.

The same plays and rules as the CLI and Slack; the actor is the token's name, so an approver
needs a token of their own. 200 means production moved; 202 means it has not yet (approvers
must decide, or a canary runs first).
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from core import queries, serialize
from core.commands import Approve, Promote, Reject, Rollback
from core.plays import approve, canary, promote, reject, rollback
from core.plays.canary_watch import CanaryView

from .access import Principal
from .context import ApiContext
from .schemas import (
    ApprovalOut,
    ApproveBody,
    DecisionOut,
    PromoteBody,
    PromoteOut,
    RejectBody,
    RollbackBody,
    RollbackOut,
)


def router(api: ApiContext) -> APIRouter:
    r = api.router("plays")
    ctx = api.app.ctx
    may_change = Depends(api.require("register"))

    @r.post("/models/{model}/promote", response_model=PromoteOut,
            responses={202: {"model": PromoteOut,
                             "description": "approval requested, or a canary started"}})
    def promote_version(model: str, body: PromoteBody,
                        who: Annotated[Principal, may_change]) -> JSONResponse:
        """Play 2: move production, or request approval (high stakes), or with
        `canary_fraction` point `canary` at the version for that share of traffic first."""
        if body.canary_fraction is not None:
            started = canary.start(
                ctx, model=model, version=body.version,
                fraction=body.canary_fraction, actor=who.actor, reason=body.reason,
                expected_revision=body.expected_revision)
            view = CanaryView(started.state, True, None)
            data: dict[str, Any] = {
                "version": started.version.short, "gate": started.gate, "run": started.run_id,
                "event": serialize.event(started.event) if started.event else None,
                "request": serialize.approval(started.request) if started.request else None,
                "canary": view.to_json()}
            return JSONResponse(data, status_code=202)
        result = promote(Promote.parse(model=model, version=body.version, actor=who.actor,
                                       reason=body.reason,
                                       expected_revision=body.expected_revision,
                                       override_reason=body.override_reason), ctx)
        data = {"version": result.version.short, "gate": result.gate, "run": result.run_id,
                "event": serialize.event(result.event) if result.event else None,
                "request": serialize.approval(result.request) if result.request else None,
                "overridden": result.canary_override is not None,
                "rolled_back": [i.id for i in result.rolled_back]}
        return JSONResponse(data, status_code=200 if result.event else 202)

    @r.post("/models/{model}/rollback", response_model=RollbackOut)
    def rollback_model(model: str, who: Annotated[Principal, may_change],
                       body: Annotated[RollbackBody | None, Body()] = None) -> dict[str, Any]:
        """Play 3: move the tag back to the last known-good version (or `to`) at once, open
        an incident, confirm with the eval suite. The body may be left out."""
        body = body or RollbackBody()
        result = rollback(Rollback.parse(model=model, actor=who.actor, to=body.to,
                                         symptom=body.symptom, tag=body.tag,
                                         expected_revision=body.expected_revision,
                                         detected_at=body.detected_at), ctx)
        return serialize.incident(result.incident) | {
            "run": result.run_id, "event": serialize.event(result.event)}

    @r.get("/approvals/{request_id}", response_model=ApprovalOut)
    def get_approval(request_id: str,
                     who: Annotated[Principal, Depends(api.require("register", "audit"))]
                     ) -> dict[str, Any]:
        """One approval request in full."""
        request = queries.approval(ctx, request_id)
        who.cover(request.model)
        return serialize.approval(request)

    @r.post("/approvals/{request_id}/approve", response_model=DecisionOut)
    def approve_request(request_id: str, who: Annotated[Principal, may_change],
                        body: Annotated[ApproveBody | None, Body()] = None) -> dict[str, Any]:
        """Play 2's second approver: the token's name must be an approver other than the
        requester; enough approvals move production (re-gated against it first)."""
        override = body.override_reason if body else None
        who.cover(queries.approval(ctx, request_id).model)
        decision = approve(Approve.parse(request_id=request_id, approver=who.actor,
                                         override_reason=override), ctx)
        return serialize.approval(decision.request) | {
            "run": decision.run_id, "overridden": decision.canary_override is not None,
            "event": serialize.event(decision.event) if decision.event else None}

    @r.post("/approvals/{request_id}/reject", response_model=DecisionOut)
    def reject_request(request_id: str, who: Annotated[Principal, may_change],
                       body: Annotated[RejectBody | None, Body()] = None) -> dict[str, Any]:
        """Turn a promotion down; production stays as it is."""
        who.cover(queries.approval(ctx, request_id).model)
        decision = reject(Reject.parse(request_id=request_id, actor=who.actor,
                                       reason=body.reason if body else ""), ctx)
        return serialize.approval(decision.request) | {"run": decision.run_id}

    return r
