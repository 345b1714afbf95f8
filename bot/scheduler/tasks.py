"""What each scheduled job does. The jobs change the registry (GC, approval expiry) and say
what is due as events (a digest, a rehearsal reminder, an experiment warning, the GC report);
whatever posts them (the Slack notifier) is a handler of those events, so the scheduler runs
the same in every serve mode and needs no Slack. Each job's work goes through `Once`, keyed
by its slot, so that no replica repeats another's."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from bot.bootstrap import App
from bot.deploy import fingerprint_for
from core import queries, scheduled
from core.commands import CollectGarbage
from core.errors import Conflict
from core.events import (
    Event,
    ExperimentExpiring,
    GcCycleCompleted,
    RehearsalDue,
)
from core.plays import collect_garbage, leftovers
from core.plays.approval import expire_if_overdue
from core.scheduled import Once

log = logging.getLogger("playbook.scheduler")
ACTOR = "scheduler"


def emit(app: App, event: Event) -> None:
    with app.ctx.uow() as uow:
        uow.outbox.add(event)
        uow.commit()


def digest_due(app: App, channel: str, at: datetime) -> str:
    scheduled.digest_due(app.ctx.uow, app.ctx.clock, channel, at)
    return f"digest for {channel} is due"


def gc_cycle(app: App, at: datetime) -> str:
    """Play 6 over every model, then the event of its report. A retry (the replica died
    after collecting) reports the run already made for this slot instead of running GC
    again, which would find nothing and lose the report."""
    done = _gc_run_since(app, at)
    if done is None:
        report = collect_garbage(CollectGarbage(actor=ACTOR), app.ctx)
        done = ([v.short for v in report.collected], report.bytes_freed)
    collected, freed = done
    if not collected:
        return "GC cycle: nothing to remove"
    emit(app, GcCycleCompleted(model="", collected=tuple(collected), bytes_freed=freed,
                               slot=at, at=app.ctx.clock.now()))
    return f"GC cycle: {len(collected)} versions, {freed} bytes freed; reported"


def _gc_run_since(app: App, at: datetime) -> tuple[list[str], int] | None:
    for run in queries.runs(app.ctx, play="gc", limit=20):
        if run.actor == ACTOR and run.status == "succeeded" and run.started_at >= at \
                and not (run.result or {}).get("dry_run"):
            return list(run.result.get("collected", [])), int(run.result["bytes_freed"])
    return None


def reminder_channel(app: App, model: str) -> str | None:
    policy = app.config.model(model)
    return policy.incident_channel or policy.release_channel


def remind(app: App, model: str, at: datetime) -> str:
    status = queries.rehearsal(app.ctx, model, fingerprint_for(app, model))
    emit(app, RehearsalDue(model=model, why=status.why, slot=at, at=app.ctx.clock.now()))
    return f"{model}: rehearsal reminder due ({status.why})"


def rehearsal_check(app: App, once: Once, at: datetime) -> str:
    """A reminder for each model due a rehearsal that has a production version to rehearse,
    each claimed on its own, so a retry of the check repeats none of them."""
    due: list[str] = []
    for model in sorted(app.config.models):
        try:
            status = queries.rehearsal(app.ctx, model, fingerprint_for(app, model))
            if status.due and reminder_channel(app, model) and once.run(
                    f"rehearsal-reminder:{model}", at, partial(remind, app, model, at)):
                due.append(model)
        except Exception:  # one model's trouble must not cost the others their reminder
            log.exception("rehearsal check of %s failed", model)
    return f"rehearsal reminders due for {', '.join(due) or 'no model'}"


def sweep(app: App, once: Once) -> str:
    """Expire overdue approvals (their cards follow from the RequestExpired events), say
    which experiments are near their expiry, and close what dead processes left (incidents
    never confirmed, runs never ended). Each is claimed, so one replica does it."""
    now = app.ctx.clock.now()
    overdue = [r for r in queries.approvals(app.ctx) if now >= r.expires_at]
    expired = sum(1 for r in overdue if once.run(card_job(r.id), r.expires_at,
                                                 partial(expire_card, app, r.id)))
    warned = 0
    for model, policy in sorted(app.config.models.items()):
        if policy.release_channel is None:
            continue
        for tag, version in queries.expiring(app.ctx, model):
            assert version.expires_at is not None
            event = ExperimentExpiring(model=model, tag=tag, version_id=version.id,
                                       expires_at=version.expires_at, at=now)
            if once.run(f"experiment-warning:{model}:{tag}", version.expires_at,
                        partial(_warn, app, event)):
                warned += 1
    confirmed = sum(1 for i in leftovers.unconfirmed_leftovers(app.ctx)
                    if once.run(f"confirm:{i.id}", i.rolled_back_at,
                                partial(leftovers.confirm_leftover, app.ctx, i.id)))
    abandoned = len(leftovers.close_abandoned_runs(app.ctx))
    return (f"sweep: {expired} approvals expired, {warned} experiment warnings, "
            f"{confirmed} incidents confirmed late, {abandoned} abandoned runs closed")


def _warn(app: App, event: ExperimentExpiring) -> str:
    emit(app, event)
    return f"{event.model} {event.tag} expires {event.expires_at.isoformat()}"


def card_job(request_id: str) -> str:
    return f"card-expired:{request_id}"


def expire_card(app: App, request_id: str) -> str:
    try:
        request = expire_if_overdue(app.ctx, request_id)
    except Conflict:  # decided or expired by someone else this very moment: show that
        request = None
    # Its card is updated by the notifier, from the RequestExpired event the play wrote.
    return f"request {request_id} {request.status if request else 'changed'}"
