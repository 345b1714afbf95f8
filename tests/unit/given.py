"""Setting the scene through the plays themselves: register, promote, approve."""

from __future__ import annotations

from typing import Any

from core.commands import Approve, Promote, Register
from core.domain import PlayRun, StepStatus, Version
from core.engine import PlayContext
from core.plays.approval import Decision, approve
from core.plays.promote import PromoteResult, promote
from core.plays.register import register

BASE = """
[defaults]
metric = "accuracy"
evaluator = { command = "fake-eval" }

[models.chat]
owner = "alice"

[models.ranker]
metric = "loss"
higher_is_better = false

[models.triage]
stakes = "high"
approvers = ["bob", "carol"]

[models.credit]
stakes = "regulated"
approvers = ["bob", "carol", "dave"]
"""


def registered(ctx: PlayContext, model: str, prompt: str, score: float | None = None, *,
               parent: Version | str | None = None, actor: str = "alice",
               **fields: Any) -> Version:
    """Register a prompt-only version with a supplied score (the model's metric)."""
    policy = ctx.config.model(model)
    data: dict[str, Any] = {"model": model, "components": {"prompt": prompt},
                            "owner": actor, "reason": f"try {prompt}", "actor": actor}
    if score is not None:
        data["scores"] = {policy.metric: score}
    if parent is None:
        data["root"] = True
    else:
        data["parent"] = parent.short if isinstance(parent, Version) else parent
    data.update(fields)
    return register(Register.parse(**data), ctx).version


def promoted(ctx: PlayContext, version: Version, actor: str = "alice",
             reason: str = "ship it", override: str | None = None) -> PromoteResult:
    """`override`: the reason a version rolled back from before goes out again."""
    return promote(Promote.parse(model=version.model, version=version.short, actor=actor,
                                 reason=reason, override_reason=override), ctx)


def approved(ctx: PlayContext, request_id: str, approver: str) -> Decision:
    return approve(Approve.parse(request_id=request_id, approver=approver), ctx)


def chain(ctx: PlayContext, model: str, *scores: float, actor: str = "alice") -> list[Version]:
    """Register a line of versions v1 <- v2 <- ... and promote each in turn (low stakes)."""
    out: list[Version] = []
    for i, score in enumerate(scores, 1):
        v = registered(ctx, model, f"{model} prompt v{i}", score,
                       parent=out[-1] if out else None, actor=actor)
        promoted(ctx, v, actor)
        out.append(v)
    return out


def steps(run: PlayRun) -> list[tuple[str, StepStatus]]:
    return [(s.name, s.status) for s in run.steps]


def failed_step(run: PlayRun) -> str | None:
    failed = [s.name for s in run.steps if s.status == StepStatus.FAILED]
    return failed[-1] if failed else None
