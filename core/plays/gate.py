"""The deploy gate (play 2's bar, asked by CI before it deploys): may this version go out?

A query, not a play: it changes nothing and records no run. The same answer reaches
`GET /v1/models/{model}/gate` and `playbook gate`.
"""

from __future__ import annotations

from typing import Any

from core.engine import PlayContext
from core.errors import InvalidState, NotFound, Refused
from core.plays import canary_watch
from core.plays.common import current, gate, resolve


def deploy_gate(ctx: PlayContext, model: str, version: str) -> dict[str, Any]:
    """Whether `version` is registered and passes play 2's gate against today's production.

    Shared by the route and `playbook gate`; a version that already is production passes.
    """
    policy = ctx.config.model(model)
    answer: dict[str, Any] = {"model": model, "version": version, "id": None,
                              "short": None, "registered": False, "allowed": False,
                              "reasons": [], "checks": {}, "tags": []}
    with ctx.uow(read_only=True) as uow:
        try:
            candidate = resolve(uow, model, version)
        except NotFound as exc:
            answer["reasons"] = [f"not registered: {exc.message}; register it first "
                                 f"(`playbook register {model} ...`)"]
            return answer
        production, _rev = current(uow, model)
        tags = [t.name for t in uow.tags.list(model) if t.version_id == candidate.id]
    answer.update(id=candidate.id, short=candidate.short, registered=True, tags=tags)
    try:
        answer["checks"] = gate(policy, candidate, production)
        answer["allowed"] = True
        seen = canary_watch.evidence_for(ctx, model, candidate.id)
        if seen is not None and seen.comparison is not None and seen.comparison.worse:
            answer["allowed"] = False  # promote and approve refuse it without an override
            answer["checks"]["canary"] = seen.comparison.to_json()
            answer["reasons"] = ["its canary is clearly worse than production: "
                                 + "; ".join(seen.comparison.reasons)]
    except InvalidState:
        answer["allowed"] = production is not None and production.id == candidate.id
        answer["checks"] = {"production": candidate.short, "already_production": True}
    except Refused as exc:
        answer["reasons"] = [str(exc)]
    return answer
