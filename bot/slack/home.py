"""What the App Home shows, read in one unit of work for all models."""

from __future__ import annotations

from datetime import timedelta

from bot.slack.blocks.home import ModelSummary
from core.domain import PRODUCTION
from core.engine import PlayContext
from core.plays.rollback import last_known_good

RECENT = timedelta(days=7)


def summaries(ctx: PlayContext) -> list[ModelSummary]:
    now = ctx.clock.now()
    found = []
    with ctx.uow() as uow:
        for name, policy in sorted(ctx.config.models.items()):
            production = uow.tags.get(name, PRODUCTION)
            good = None
            if production is not None:
                bad = uow.versions.get(name, production.version_id)
                known = last_known_good(uow, policy, PRODUCTION, bad) if bad else None
                good = known.short if known else None
            incidents = uow.incidents.list(name, limit=50)
            found.append(ModelSummary(
                model=name, stakes=policy.stakes, production=production, last_known_good=good,
                pending=uow.approvals.pending(name),
                incidents=[i for i in incidents if not i.rehearsal and now - i.opened_at < RECENT],
                last_rehearsal=next((i for i in incidents if i.rehearsal), None),
                rehearsal_budget_s=policy.max_time_to_rollback_s))
    return found
