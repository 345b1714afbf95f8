"""Play 2, step 2: a canary on a slice of traffic before production moves.

`start` gates the candidate exactly as a promotion would, then points `canary` at it and
stores its traffic share in the same transaction. High stakes also get their approval request
at once (core's promote play), so approvers can watch the canary while they decide. Whoever
then promotes or approves that version is checked against the canary comparison: a clearly
worse canary is refused unless overridden with a reason, and the override is recorded as a
play run. The statistics are core.canary's; this module only gathers the samples.

Used by the API routes and by the local CLI alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import serialize
from core.canary import CanaryState, Comparison, Thresholds, check_approval, compare
from core.commands import Promote
from core.domain import CANARY, PRODUCTION, ApprovalRequest, ApprovalStatus, TagMoved, Version
from core.engine import PlayContext
from core.errors import InvalidInput, NotFound, PlaybookError
from core.events import CanaryJudgedWorse
from core.plays import promote
from core.plays.common import check_expected, current, gate, move_tag, resolve
from storage.api_uow import ApiUnitOfWorkFactory

from .tags import canary_active


@dataclass(frozen=True)
class CanaryStarted:
    version: Version
    state: CanaryState
    event: TagMoved | None  # None when `canary` already pointed at the version
    gate: dict[str, Any]
    request: ApprovalRequest | None  # high stakes: the production move's approval request
    run_id: str


@dataclass(frozen=True)
class CanaryView:
    state: CanaryState
    active: bool
    comparison: Comparison | None

    def to_json(self) -> dict[str, Any]:
        s = self.state
        return {"model": s.model, "version": s.version_id,
                "short": f"{s.model}@{s.version_id[:12]}", "fraction": s.fraction,
                "started_at": serialize.ts(s.started_at), "started_by": s.started_by,
                "ended_at": serialize.ts(s.ended_at), "active": self.active,
                "comparison": self.comparison.to_json() if self.comparison else None}


def start(ctx: PlayContext, uow: ApiUnitOfWorkFactory, *, model: str, version: str,
          fraction: float, actor: str, reason: str = "",
          expected_revision: int | None = None) -> CanaryStarted:
    inputs = {"model": model, "version": version, "fraction": fraction, "reason": reason,
              "expected_revision": expected_revision}
    with ctx.run("canary", actor, inputs) as run:
        policy = ctx.config.model(model)
        if not 0 < fraction < 1:
            raise InvalidInput("canary", f"{fraction} is not a share between 0 and 1",
                               hint="e.g. --canary 5%")
        with run.step("resolve candidate") as out, uow() as u:
            candidate = resolve(u, model, version)
            production, revision = current(u, model)
            check_expected(model, PRODUCTION, expected_revision, revision)
            pointed, canary_revision = current(u, model, CANARY)
            out.update(candidate=candidate.short,
                       production=production.short if production else None)
        with run.step("gate") as checked:
            checked.update(gate(policy, candidate, production))
        with run.step("move canary tag") as out, uow() as u:
            now = ctx.clock.now()
            event = None
            if pointed is None or pointed.id != candidate.id:
                event = move_tag(u, model=model, tag=CANARY, to=candidate,
                                 expected_revision=canary_revision,
                                 from_version=pointed.id if pointed else None, actor=actor,
                                 play="canary", reason=reason or f"canary at {fraction:.2%}",
                                 at=now)
            state = CanaryState(model=model, version_id=candidate.id, fraction=fraction,
                                started_at=now, started_by=actor)
            u.canaries.put(state)
            u.commit()
            out.update(fraction=fraction, revision=event.revision if event else None)
        run.run.result = {"canary": candidate.short, "fraction": fraction}
    request = None
    if policy.required_approvals > 0:
        request = promote(Promote.parse(model=model, version=candidate.id, actor=actor,
                                        reason=reason), ctx).request
    return CanaryStarted(candidate, state, event, dict(checked), request, run.id)


def stop(ctx: PlayContext, uow: ApiUnitOfWorkFactory, *, model: str, actor: str) -> CanaryState:
    with ctx.run("canary", actor, {"model": model, "stop": True}) as run:
        ctx.config.model(model)
        with run.step("end canary") as out, uow() as u:
            state = u.canaries.end(model, ctx.clock.now())
            u.commit()
            out.update(version=state.version_id[:12])
        run.run.result = {"ended": f"{model}@{state.version_id[:12]}"}
        return state


def view(ctx: PlayContext, uow: ApiUnitOfWorkFactory, model: str,
         thresholds: Thresholds) -> CanaryView:
    """The model's canary and, while it runs beside a production, the comparison."""
    ctx.config.model(model)
    with uow() as u:
        state = u.canaries.get(model)
        if state is None:
            raise NotFound(f"{model} has never had a canary",
                           hint=f"start one with `playbook promote {model} M@HEX --canary 5%`")
        production = u.tags.get(model, PRODUCTION)
        active = canary_active(state, u.tags.get(model, CANARY), production)
        comparison = None
        if active and production is not None:
            comparison = compare(
                u.canaries.outcomes(model, state.version_id, state.started_at),
                u.canaries.outcomes(model, production.version_id, state.started_at),
                thresholds)
    return CanaryView(state, active, comparison)


def guard(ctx: PlayContext, uow: ApiUnitOfWorkFactory, *, model: str, version_id: str,
          actor: str, override_reason: str | None, thresholds: Thresholds) -> bool:
    """Before production moves to `version_id`: refuse a clearly worse running canary of it.

    Returns whether an override was used. Versions that are not the running canary pass.
    """
    with uow() as u:
        state = u.canaries.get(model)
    if state is None or state.version_id != version_id:
        return False
    seen = view(ctx, uow, model, thresholds)
    if not seen.active or seen.comparison is None or not seen.comparison.worse:
        return False
    inputs = {"model": model, "version": version_id, "override_reason": override_reason}
    if not (override_reason and override_reason.strip()):  # refused: the card says why
        with ctx.uow() as u:
            u.outbox.add(CanaryJudgedWorse(model=model, version_id=version_id,
                                           reasons=seen.comparison.reasons,
                                           at=ctx.clock.now()))
            u.commit()
    with ctx.run("canary-check", actor, inputs) as run:
        with run.step("compare canary with production") as out:
            out.update(seen.comparison.to_json())
            overridden = check_approval(seen.comparison, override_reason)
        run.run.result = {"overridden": overridden, "reason": override_reason}
    return overridden


def guard_promotion(ctx: PlayContext, uow: ApiUnitOfWorkFactory, *, model: str, version: str,
                    actor: str, override_reason: str | None, thresholds: Thresholds) -> bool:
    try:
        ctx.config.model(model)
        with uow() as u:
            candidate = resolve(u, model, version)
    except PlaybookError:
        return False  # the promote play reports it, in its own run
    return guard(ctx, uow, model=model, version_id=candidate.id, actor=actor,
                 override_reason=override_reason, thresholds=thresholds)


def guard_approval(ctx: PlayContext, uow: ApiUnitOfWorkFactory, *, request_id: str,
                   actor: str, override_reason: str | None, thresholds: Thresholds) -> bool:
    with uow() as u:
        request = u.approvals.get(request_id)
    if request is None or request.status != ApprovalStatus.PENDING \
            or request.tag != PRODUCTION:
        return False  # the approve play reports it
    return guard(ctx, uow, model=request.model, version_id=request.version_id, actor=actor,
                 override_reason=override_reason, thresholds=thresholds)
