"""The second approver of play 2: approve or reject a pending promotion request.

Only a person other than the requester who is an approver may approve; regulated models need
two distinct approvers. At the moment of approval the gate is checked again against the
production of that moment, and the tag moves with compare-and-set, so a stale request cannot
overwrite a newer production.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.commands import Approve, Reject
from core.domain import Approval, ApprovalRequest, ApprovalStatus, TagMoved
from core.engine import PlayContext
from core.errors import InvalidState, NotFound, Refused
from core.events import ApprovalGiven, CanaryOverridden, RequestDecided, RequestExpired
from core.plays import canary_watch
from core.plays.common import (
    check_past_rollbacks,
    current,
    gate,
    move_tag,
    request_of,
    rolled_back_from,
)
from core.ports import UnitOfWork
from core.timetext import stamp


@dataclass(frozen=True)
class Decision:
    request: ApprovalRequest
    event: TagMoved | None  # the tag move, once enough approvers said yes
    run_id: str
    canary_override: CanaryOverridden | None = None  # a worse canary, approved with a reason


def _load_pending(ctx: PlayContext, request_id: str) -> ApprovalRequest:
    """The request, if it can still be decided; an overdue request is marked expired."""
    with ctx.uow() as uow:
        request = request_of(uow, request_id)
        now = ctx.clock.now()
        if request.status == ApprovalStatus.PENDING and now >= request.expires_at:
            _expire(uow, request)
            uow.commit()
    if request.status != ApprovalStatus.PENDING:
        who = f" by {request.decided_by}" if request.decided_by else ""
        note = f" ({request.decision_note})" if request.decision_note else ""
        raise InvalidState(f"request {request_id} is {request.status}{who}{note}; "
                           "it can no longer be decided",
                           hint="ask for a new promotion with `playbook promote`",
                           people=(request.decided_by or "",))
    return request


def _expire(uow: UnitOfWork, request: ApprovalRequest) -> None:
    request.status = ApprovalStatus.EXPIRED
    request.decided_at = request.expires_at
    request.decision_note = f"expired at {stamp(request.expires_at)}"
    uow.approvals.save(request)
    uow.outbox.add(RequestExpired(model=request.model, request_id=request.id,
                                  at=request.expires_at))


def approve(cmd: Approve, ctx: PlayContext) -> Decision:
    with ctx.run("approve", cmd.approver, cmd.inputs()) as run:
        with run.step("load request") as out:
            request = _load_pending(ctx, cmd.request_id)
            out.update(model=request.model, approvals=list(request.approvers))
        policy = ctx.config.model(request.model)
        with run.step("check approver"):
            if cmd.approver == request.requester:
                raise Refused(f"{cmd.approver} requested this promotion and cannot approve it",
                              hint="a second person must approve", people=(cmd.approver,))
            if cmd.approver in request.approvers:
                raise Refused(f"{cmd.approver} already approved request {request.id}",
                              hint=f"it needs {request.required - len(request.approvals)} "
                                   "more approver(s), each a different person",
                              people=(cmd.approver,))
            allowed, why = ctx.approvers.may_approve(policy, cmd.approver)
            if not allowed:
                raise Refused(why, people=(cmd.approver, *policy.approvers))
        with run.step("re-check gate") as checked, ctx.uow(read_only=True) as uow:
            candidate = uow.versions.get(request.model, request.version_id)
            production, revision = current(uow, request.model, request.tag)
            if candidate is None:
                raise NotFound(f"version {request.version_id} vanished")
            checked.update(gate(policy, candidate, production))
            # Rolled back from since the request was made (a reason given at promote names
            # its incidents): the approver says why it goes out anyway.
            unaccounted = [i for i in rolled_back_from(uow, request.model, candidate.id)
                           if i.id not in request.reason]
        move_reason = request.reason
        if unaccounted:
            why = (cmd.override_reason or "").strip()
            recorded = check_past_rollbacks(run, candidate, unaccounted, why,
                                            since=" after this request was made",
                                            doing="approving it")
            move_reason = " · ".join(filter(None, [
                request.reason, f"approved again after rollback {recorded}"]))
        override = canary_watch.check(ctx, run, model=request.model,
                                      version_id=request.version_id, actor=cmd.approver,
                                      override_reason=cmd.override_reason)

        now = ctx.clock.now()
        with run.step("record approval") as out, ctx.uow() as uow:
            request.approvals.append(Approval(cmd.approver, now))
            event = None
            if len(request.approvals) >= request.required:
                event = move_tag(uow, model=request.model, tag=request.tag, to=candidate,
                                 expected_revision=revision,
                                 from_version=production.id if production else None,
                                 actor=request.requester, play="promote",
                                 reason=move_reason, at=now, approvers=request.approvers)
                request.status = ApprovalStatus.APPROVED
                request.decided_by = cmd.approver
                request.decided_at = now
            uow.approvals.save(request)
            uow.outbox.add(ApprovalGiven(model=request.model, request_id=request.id,
                                         approver=cmd.approver,
                                         approvals=len(request.approvals),
                                         required=request.required, at=now))
            if event is not None:
                uow.outbox.add(RequestDecided(model=request.model, request_id=request.id,
                                              status=str(request.status),
                                              decided_by=cmd.approver, at=now))
            if override is not None:
                uow.outbox.add(override)
            uow.commit()
            out.update(approvals=list(request.approvers), status=str(request.status),
                       revision=event.revision if event else None)
        run.run.result = {"request": request.id, "status": str(request.status),
                          "promoted": candidate.short if event else None}
        return Decision(request, event, run.id, override)


def reject(cmd: Reject, ctx: PlayContext) -> Decision:
    with ctx.run("reject", cmd.actor, cmd.inputs()) as run:
        with run.step("load request"):
            request = _load_pending(ctx, cmd.request_id)
        policy = ctx.config.model(request.model)
        with run.step("check rejecter"):
            allowed, why = ctx.approvers.may_approve(policy, cmd.actor)
            if cmd.actor != request.requester and not allowed:
                raise Refused(f"only the requester or an approver may reject: {why}",
                              people=(cmd.actor, *policy.approvers))
        with run.step("record rejection"), ctx.uow() as uow:
            request.status = ApprovalStatus.REJECTED
            request.decided_by = cmd.actor
            request.decided_at = ctx.clock.now()
            request.decision_note = cmd.reason or None
            uow.approvals.save(request)
            uow.outbox.add(RequestDecided(model=request.model, request_id=request.id,
                                          status=str(request.status), decided_by=cmd.actor,
                                          at=request.decided_at))
            uow.commit()
        run.run.result = {"request": request.id, "status": "rejected"}
        return Decision(request, None, run.id)


def expire_if_overdue(ctx: PlayContext, request_id: str) -> ApprovalRequest | None:
    """Expire one request if it is still pending past its expiry; answers it as it is now
    (None if unknown). A replica that lost the race to expire it finds it expired."""
    with ctx.uow() as uow:
        request = uow.approvals.get(request_id)
        if request is not None and request.status == ApprovalStatus.PENDING \
                and ctx.clock.now() >= request.expires_at:
            _expire(uow, request)
            uow.commit()
        return request


def expire_overdue(ctx: PlayContext) -> list[ApprovalRequest]:
    """Mark every pending request past its expiry as expired (the scheduler's sweep)."""
    now = ctx.clock.now()
    expired = []
    with ctx.uow() as uow:
        for request in uow.approvals.pending():
            if now >= request.expires_at:
                _expire(uow, request)
                expired.append(request)
        uow.commit()
    return expired
