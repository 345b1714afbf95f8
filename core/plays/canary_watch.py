"""Play 2, step 2, as the promote and approve plays see it: was the candidate a canary, and
is it clearly worse than production?

`check` is a step of both plays, so it holds whichever surface asked: a clearly worse canary
of the candidate refuses the promotion, unless the command carries an override reason, which
its CanaryOverridden event records. A canary that was ended (`--stop`) still counts: ending
a slice because it looked bad must not clear the way for promoting it. Its outcomes since it
started are compared with production's over the same time on (production keeps serving after
the slice ends, which only adds samples on production's side). The statistics are
core.canary's; the thresholds are the model's (`canary = { ... }` in playbook.toml).

Rollback never asks: it is the emergency play, and the on-call's `--to` is theirs to choose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import serialize
from core.canary import CanaryState, Comparison, check_approval, compare
from core.domain import CANARY, PRODUCTION, Tag
from core.engine import PlayContext, RunRecorder
from core.errors import NotFound, Refused
from core.events import CanaryJudgedWorse, CanaryOverridden


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


def canary_active(state: CanaryState | None, canary: Tag | None,
                  production: Tag | None) -> bool:
    """A slice runs until production reaches its version or someone ends it."""
    return (state is not None and state.ended_at is None and canary is not None
            and canary.version_id == state.version_id
            and (production is None or production.version_id != state.version_id))


def view(ctx: PlayContext, model: str) -> CanaryView:
    """The model's latest canary and, unless its version is production now, how it compares
    with production since it started (running or ended)."""
    thresholds = ctx.config.model(model).canary.thresholds()
    with ctx.uow(read_only=True) as u:
        state = u.canaries.get(model)
        if state is None:
            raise NotFound(f"{model} has never had a canary",
                           hint=f"start one with `playbook promote {model} M@HEX --canary 5%`")
        production = u.tags.get(model, PRODUCTION)
        active = canary_active(state, u.tags.get(model, CANARY), production)
        comparison = None
        if production is not None and production.version_id != state.version_id:
            comparison = compare(
                u.canaries.outcomes(model, state.version_id, state.started_at),
                u.canaries.outcomes(model, production.version_id, state.started_at),
                thresholds)
    return CanaryView(state, active, comparison)


def evidence_for(ctx: PlayContext, model: str, version_id: str) -> CanaryView | None:
    """The view of the model's latest canary if it was this version (running or ended) and
    can be compared with production, else None."""
    with ctx.uow(read_only=True) as u:
        state = u.canaries.get(model)
    if state is None or state.version_id != version_id:
        return None
    seen = view(ctx, model)
    return seen if seen.comparison is not None else None


def check(ctx: PlayContext, run: RunRecorder, *, model: str, version_id: str, actor: str,
          override_reason: str | None) -> CanaryOverridden | None:
    """The promote and approve plays' step: refuse a clearly worse running canary of the
    candidate (running or ended) unless overridden with a reason. Answers the override's event
    (for the caller to write with its tag move or approval), or None. No step is recorded
    when the candidate was not the latest canary."""
    seen = evidence_for(ctx, model, version_id)
    if seen is None or seen.comparison is None:
        return None
    comparison = seen.comparison
    with run.step("compare canary with production") as out:
        out.update(comparison.to_json())
        try:
            overridden = check_approval(comparison, override_reason)
        except Refused:
            with ctx.uow() as u:  # refused: the request's card shows the comparison
                u.outbox.add(CanaryJudgedWorse(model=model, version_id=version_id,
                                               reasons=comparison.reasons,
                                               at=ctx.clock.now()))
                u.commit()
            raise
        out.update(overridden=overridden, override_reason=override_reason)
    if not overridden:
        return None
    return CanaryOverridden(model=model, version_id=version_id, actor=actor,
                            reason=(override_reason or "").strip(),
                            reasons=comparison.reasons, at=ctx.clock.now())
