"""Play 2, step 2: a canary on a slice of traffic before production moves.

`start` gates the candidate exactly as a promotion would, then points `canary` at it and
stores its traffic share in the same transaction. High stakes also get their approval request
at once (the promote play), so approvers can watch the canary while they decide.

Whether a running canary is clearly worse, and what that means for a promotion, is
core/plays/canary_watch.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.canary import CanaryState
from core.commands import Promote
from core.domain import CANARY, PRODUCTION, ApprovalRequest, TagMoved, Version
from core.engine import PlayContext
from core.errors import InvalidInput
from core.plays.common import check_expected, current, gate, move_tag, resolve
from core.plays.promote import promote


@dataclass(frozen=True)
class CanaryStarted:
    version: Version
    state: CanaryState
    event: TagMoved | None  # None when `canary` already pointed at the version
    gate: dict[str, Any]
    request: ApprovalRequest | None  # high stakes: the production move's approval request
    run_id: str


def start(ctx: PlayContext, *, model: str, version: str, fraction: float, actor: str,
          reason: str = "", expected_revision: int | None = None,
          channel: str | None = None) -> CanaryStarted:
    inputs = {"model": model, "version": version, "fraction": fraction, "reason": reason,
              "expected_revision": expected_revision}
    with ctx.run("canary", actor, inputs) as run:
        policy = ctx.config.model(model)
        if not 0 < fraction < 1:
            raise InvalidInput("canary", f"{fraction} is not a share between 0 and 1",
                               hint="e.g. --canary 5%")
        with run.step("resolve candidate") as out, ctx.uow(read_only=True) as u:
            candidate = resolve(u, model, version)
            production, revision = current(u, model)
            check_expected(model, PRODUCTION, expected_revision, revision)
            pointed, canary_revision = current(u, model, CANARY)
            out.update(candidate=candidate.short,
                       production=production.short if production else None)
        with run.step("gate") as checked:
            checked.update(gate(policy, candidate, production))
        with run.step("move canary tag") as out, ctx.uow() as u:
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
                                        reason=reason, channel=channel), ctx).request
    return CanaryStarted(candidate, state, event, dict(checked), request, run.id)


def stop(ctx: PlayContext, *, model: str, actor: str) -> CanaryState:
    with ctx.run("canary", actor, {"model": model, "stop": True}) as run:
        ctx.config.model(model)
        with run.step("end canary") as out, ctx.uow() as u:
            state = u.canaries.end(model, ctx.clock.now())
            u.commit()
            out.update(version=state.version_id[:12])
        run.run.result = {"ended": f"{model}@{state.version_id[:12]}"}
        return state
