"""Play 3 rehearsed: "an unrehearsed rollback decays into a hope".

A rehearsal never touches `production`. It points the `rehearsal` tag at production's version
(an ordinary, logged tag move), then runs the real rollback play on `rehearsal`, to the version
a production rollback would pick right now. So it exercises the same code path (tag move by
compare-and-set, incident record, confirming eval) and measures its time-to-rollback, and it
fails, visibly, exactly when a real rollback would: no known-good version, an artifact collected,
an eval suite that no longer runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.commands import Rehearse, Rollback
from core.config import ModelPolicy
from core.domain import PRODUCTION, REHEARSAL, Incident, Version
from core.engine import PlayContext
from core.errors import InvalidState, Refused
from core.events import RehearsalFinished
from core.plays.common import current, move_tag
from core.plays.rollback import RollbackResult, last_known_good, rollback
from core.ports import UnitOfWork


@dataclass(frozen=True)
class RehearsalResult:
    incident: Incident
    production: Version
    target: Version
    budget_s: float
    run_id: str
    follower: bool = False  # a serving client follows `rehearsal` (rehearsal_follower)

    @property
    def over_budget(self) -> bool:
        return self.incident.over_budget(self.budget_s)

    @property
    def awaiting_follower(self) -> bool:
        return self.follower and self.incident.serving_switched_at is None


@dataclass(frozen=True)
class RehearsalStatus:
    model: str
    last: Incident | None  # the last rehearsal
    due: bool
    why: str  # why it is due, or when it will be
    due_at: datetime | None
    over_budget: bool  # the last rehearsal took longer than max_time_to_rollback_s


def rehearsal_status(uow: UnitOfWork, policy: ModelPolicy, now: datetime,
                     fingerprint: str | None) -> RehearsalStatus:
    """Whether `policy`'s model is due a rehearsal: never rehearsed, its deploy path changed
    since the last one, or the last one is older than rehearsal_every_days."""
    if uow.tags.get(policy.name, PRODUCTION) is None:
        return RehearsalStatus(policy.name, None, False, "nothing to rehearse until a version "
                               "reaches production", None, False)
    found = uow.incidents.list(policy.name, limit=1, rehearsal=True)
    last = found[0] if found else None
    if last is None:
        return RehearsalStatus(policy.name, None, True, "never rehearsed", None, False)
    if policy.rehearsal_follower:  # the drill counts until serving followed the tag
        budget = timedelta(seconds=policy.max_time_to_rollback_s)
        served = last.time_to_serving_s
        if served is None and now - last.rolled_back_at > budget:
            return RehearsalStatus(
                policy.name, last, True, "the last rehearsal's serving client never followed "
                "the rehearsal tag within the budget: the indirection may be broken", now,
                True)
        over = served is not None and served > policy.max_time_to_rollback_s
    else:
        over = last.over_budget(policy.max_time_to_rollback_s)
    due_at = last.opened_at + timedelta(days=policy.rehearsal_every_days)
    if last.confirmation != "passed":  # the drill found the rollback target does not work
        return RehearsalStatus(policy.name, last, True,
                               f"the last rehearsal's confirming eval did not pass "
                               f"({last.confirmation or 'not run'})", now, over)
    if fingerprint != last.deploy_fingerprint:
        return RehearsalStatus(policy.name, last, True,
                               "its deploy path changed since the last rehearsal", now, over)
    if now >= due_at:
        days = (now - last.opened_at).days
        return RehearsalStatus(policy.name, last, True,
                               f"last rehearsed {days} days ago (every "
                               f"{policy.rehearsal_every_days} days)", due_at, over)
    return RehearsalStatus(policy.name, last, False, f"next due {due_at:%Y-%m-%d}", due_at,
                           over)


def rehearse(cmd: Rehearse, ctx: PlayContext,
             roll_back: Callable[[Rollback], RollbackResult] | None = None) -> RehearsalResult:
    """Stage and run one rehearsal. Its record, confirmation and verdict are the rollback's
    events and its RehearsalFinished, posted like any incident's. `roll_back` runs the
    rollback play (by default the plain play; tests time a slow one)."""
    with ctx.run("rehearse", cmd.actor, cmd.inputs()) as run:
        policy = ctx.config.model(cmd.model)
        with run.step("stage rehearsal tag") as out, ctx.uow() as uow:
            prod, _ = current(uow, cmd.model, PRODUCTION)
            if prod is None:
                raise InvalidState(f"{cmd.model} has no production version, so there is no "
                                   "rollback to rehearse",
                                   hint=f"promote a version of {cmd.model} first")
            target = last_known_good(uow, policy, PRODUCTION, prod)
            if target is None:
                raise Refused(
                    f"a rollback of {cmd.model} would fail now: no earlier production version "
                    "passed its eval without being rolled back from",
                    hint=f"promote a known-good version, or be ready to name one with "
                         f"`playbook rollback {cmd.model} --to MODEL@<hex>`")
            staged, revision = current(uow, cmd.model, REHEARSAL)
            if staged is None or staged.id != prod.id:
                moved = move_tag(uow, model=cmd.model, tag=REHEARSAL, to=prod,
                                 expected_revision=revision,
                                 from_version=staged.id if staged else None, actor=cmd.actor,
                                 play="rehearse", reason="staged at production for a rehearsal",
                                 at=ctx.clock.now())
                uow.commit()
                revision = moved.revision
            out.update(production=prod.short, target=target.short, revision=revision)
        order = Rollback(model=cmd.model, actor=cmd.actor, to=target.id, symptom=cmd.reason,
                         tag=REHEARSAL, expected_revision=revision, channel=cmd.channel)
        with run.step("roll back the rehearsal tag") as out:
            result = (roll_back or (lambda o: rollback(o, ctx)))(order)
            out.update(incident=result.incident.id,
                       time_to_rollback_s=result.incident.time_to_rollback_s,
                       confirmation=result.incident.confirmation)
        with run.step("record the rehearsal") as out, ctx.uow() as uow:
            incident = uow.incidents.get(result.incident.id) or result.incident
            incident.deploy_fingerprint = cmd.deploy_fingerprint
            uow.incidents.save(incident)
            over = incident.over_budget(policy.max_time_to_rollback_s)
            uow.outbox.add(RehearsalFinished(
                model=cmd.model, incident_id=incident.id, production_version=prod.id,
                target_version=target.id, budget_s=policy.max_time_to_rollback_s,
                over_budget=over, at=ctx.clock.now()))
            uow.commit()
            out.update(over_budget=over)
        run.run.result = {"incident": incident.id, "production": prod.short,
                          "target": target.short,
                          "time_to_rollback_s": incident.time_to_rollback_s,
                          "budget_s": policy.max_time_to_rollback_s,
                          "confirmation": incident.confirmation}
        return RehearsalResult(incident, prod, target, policy.max_time_to_rollback_s, run.id,
                               policy.rehearsal_follower)
