"""Play 2, promote: a tag move, gated on eval, with approvers where the stakes demand them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.commands import Promote
from core.domain import PRODUCTION, ApprovalRequest, ApprovalStatus, Incident, TagMoved, Version
from core.engine import PlayContext, RunRecorder
from core.events import CanaryOverridden, Promoted, PromotionRequested, RequestSuperseded
from core.plays import canary_watch
from core.plays.common import (
    check_expected,
    check_past_rollbacks,
    current,
    gate,
    move_tag,
    resolve,
    rolled_back_from,
)


@dataclass(frozen=True)
class PromoteResult:
    version: Version
    event: TagMoved | None  # set when the tag moved at once (low stakes)
    request: ApprovalRequest | None  # set when approvers must decide first
    gate: dict[str, object]
    run_id: str
    canary_override: CanaryOverridden | None = None  # a worse canary, promoted with a reason
    rolled_back: tuple[Incident, ...] = ()  # production was rolled back from it before


def past_rollbacks(run: RunRecorder, cmd: Promote, candidate: Version,
                   incidents: tuple[Incident, ...]) -> str:
    """The reason the move records: promoting a version production was rolled back from
    (`incidents`) again needs an explicit reason (the override reason of every surface),
    which the tag event and the approval request keep."""
    if not incidents:
        return cmd.reason
    why = (cmd.override_reason or "").strip()
    recorded = "promoted again after rollback " + check_past_rollbacks(
        run, candidate, incidents, why)
    return f"{cmd.reason} · {recorded}" if cmd.reason else recorded


def promote(cmd: Promote, ctx: PlayContext) -> PromoteResult:
    with ctx.run("promote", cmd.actor, cmd.inputs()) as run:
        policy = ctx.config.model(cmd.model)
        with run.step("resolve candidate") as out:
            with ctx.uow(read_only=True) as uow:
                candidate = resolve(uow, cmd.model, cmd.version)
                production, revision = current(uow, cmd.model)
                rolled_back = tuple(rolled_back_from(uow, cmd.model, candidate.id))
            check_expected(cmd.model, PRODUCTION, cmd.expected_revision, revision)
            out.update(candidate=candidate.short,
                       production=production.short if production else None)
        with run.step("gate") as checked:
            checked.update(gate(policy, candidate, production))
        reason = past_rollbacks(run, cmd, candidate, rolled_back)
        override = canary_watch.check(ctx, run, model=cmd.model, version_id=candidate.id,
                                      actor=cmd.actor, override_reason=cmd.override_reason)

        now = ctx.clock.now()
        if policy.required_approvals == 0:
            with run.step("move production tag") as out, ctx.uow() as uow:
                event = move_tag(uow, model=cmd.model, tag=PRODUCTION, to=candidate,
                                 expected_revision=revision,
                                 from_version=production.id if production else None,
                                 actor=cmd.actor, play="promote", reason=reason, at=now)
                uow.outbox.add(Promoted(
                    model=cmd.model, version_id=candidate.id, from_version=event.from_version,
                    revision=event.revision, actor=cmd.actor, reason=reason,
                    channel=cmd.channel, at=now))
                if override is not None:
                    uow.outbox.add(override)
                uow.commit()
                out.update(revision=event.revision)
            run.run.result = {"promoted": candidate.short, "revision": event.revision}
            return PromoteResult(candidate, event, None, dict(checked), run.id, override,
                                 rolled_back)

        with run.step("request approval") as out, ctx.uow() as uow:
            request = ApprovalRequest(
                id=ctx.make_id("apr"), model=cmd.model, version_id=candidate.id,
                tag=PRODUCTION, requester=cmd.actor, reason=reason,
                required=policy.required_approvals, created_at=now,
                expires_at=now + timedelta(hours=policy.approval_ttl_hours),
                production_at_request=production.id if production else None)
            superseded = []
            for old in uow.approvals.pending(cmd.model):
                if old.tag == PRODUCTION:
                    old.status = ApprovalStatus.SUPERSEDED
                    old.decided_at = now
                    old.decision_note = f"superseded by {request.id}"
                    uow.approvals.save(old)
                    uow.outbox.add(RequestSuperseded(model=cmd.model, request_id=old.id,
                                                     by_request=request.id, at=now))
                    superseded.append(old.id)
            uow.approvals.add(request)
            uow.outbox.add(PromotionRequested(
                model=cmd.model, request_id=request.id, version_id=candidate.id,
                requester=cmd.actor, required=request.required, channel=cmd.channel,
                at=now))
            if override is not None:
                uow.outbox.add(override)
            uow.commit()
            out.update(request=request.id, required=request.required,
                       expires_at=request.expires_at.isoformat(), superseded=superseded)
        run.run.result = {"request": request.id, "status": "pending",
                          "required": request.required}
        return PromoteResult(candidate, None, request, dict(checked), run.id, override,
                             rolled_back)
