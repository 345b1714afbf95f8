"""What a process that died midway leaves behind, and how the scheduler's sweep closes it:
an incident whose confirming eval never reported is confirmed late, and a run still
`running` long after any play could take is marked failed, so `playbook runs` and the
incident record never wait forever.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.domain import Incident, PlayRun, RunStatus
from core.engine import PlayContext
from core.plays.rollback import confirm

CONFIRM_GRACE = timedelta(minutes=2)  # beyond the evaluator's own deadline
ABANDONED_AFTER = timedelta(hours=2)  # no play runs this long: eval deadlines are <= 1 h


def unconfirmed_leftovers(ctx: PlayContext) -> list[Incident]:
    """Incidents whose confirming eval should have reported by now (the model's evaluator
    deadline and a grace period have passed since the tag moved)."""
    now = ctx.clock.now()
    with ctx.uow(read_only=True) as uow:
        waiting = uow.incidents.unconfirmed(now - CONFIRM_GRACE)
    found = []
    for incident in waiting:
        policy = ctx.config.models.get(incident.model)
        if policy is None:
            continue  # taken out of the config: nothing to evaluate it with
        deadline = timedelta(seconds=policy.evaluator.timeout_s if policy.evaluator else 0)
        if incident.rolled_back_at + deadline + CONFIRM_GRACE < now:
            found.append(incident)
    return found


def confirm_leftover(ctx: PlayContext, incident_id: str) -> str:
    """The sweep's part: confirm an incident whose play stopped before its confirming eval
    reported (its process died). Answers what it did."""
    with ctx.uow(read_only=True) as uow:
        incident = uow.incidents.get(incident_id)
        restored = uow.versions.get(incident.model, incident.restored_version) \
            if incident else None
    if incident is None or incident.confirmation is not None:
        return f"incident {incident_id}: confirmed already"
    if restored is None:
        return f"incident {incident_id}: its restored version is gone; left unconfirmed"
    done = confirm(ctx, ctx.config.model(incident.model), incident, restored)
    return f"incident {incident_id}: " + (f"confirmed late ({done.confirmation})" if done
                                          else "confirmed meanwhile")


def close_abandoned_runs(ctx: PlayContext) -> list[PlayRun]:
    """Mark failed the runs whose process stopped before they ended."""
    now = ctx.clock.now()
    closed = []
    with ctx.uow() as uow:
        for run in uow.runs.running(now - ABANDONED_AFTER):
            done = replace(run, status=RunStatus.FAILED, ended_at=now,
                           error="abandoned: the process running it stopped before it ended "
                                 "(found by the scheduler's sweep)")
            uow.runs.save(done)
            closed.append(done)
        uow.commit()
    return closed
