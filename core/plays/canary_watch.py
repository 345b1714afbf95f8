"""Play 2, step 2, as the promote and approve plays see it: is the candidate a running
canary, and is it clearly worse than production?

`check` is a step of both plays, so it holds whichever surface asked: a clearly worse running
canary of the candidate refuses the promotion, unless the command carries an override reason,
which its CanaryOverridden event records. The statistics are core.canary's; the thresholds are
the model's (`canary = { ... }` in playbook.toml).
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
    """The model's canary and, while it runs beside a production, the comparison."""
    thresholds = ctx.config.model(model).canary.thresholds()
    with ctx.uow() as u:
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


def running_for(ctx: PlayContext, model: str, version_id: str) -> CanaryView | None:
    """The view of the model's canary if it is this version and runs now, else None."""
    with ctx.uow() as u:
        state = u.canaries.get(model)
    if state is None or state.version_id != version_id or state.ended_at is not None:
        return None
    seen = view(ctx, model)
    return seen if seen.active and seen.comparison is not None else None


def check(ctx: PlayContext, run: RunRecorder, *, model: str, version_id: str, actor: str,
          override_reason: str | None) -> CanaryOverridden | None:
    """The promote and approve plays' step: refuse a clearly worse running canary of the
    candidate unless overridden with a reason. Answers the override's event (for the caller
    to write with its tag move or approval), or None. No step is recorded when the candidate
    is not a running canary."""
    seen = running_for(ctx, model, version_id)
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
