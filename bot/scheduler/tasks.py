"""What each scheduled job does and posts. Each takes the composed app, the Slack runtime
when Slack is configured (None under `serve --http-only` without a bot token: the jobs still
run, they only post nothing) and the time it was scheduled for; every post goes through
`Once`, keyed so that no replica repeats another's."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

from bot.bootstrap import App
from bot.deploy import fingerprint_for
from bot.scheduler.once import Once
from bot.slack.blocks.digest import (
    experiment_warning,
    gc_report,
    rehearsal_reminder,
)
from bot.slack.digest import compose_digest
from bot.slack.runtime import SlackRuntime
from core.commands import CollectGarbage
from core.digest import expiring_experiments
from core.domain import PRODUCTION, Version
from core.errors import Conflict
from core.plays import collect_garbage
from core.plays.approval import expire_if_overdue
from core.plays.rehearse import rehearsal_status

log = logging.getLogger("playbook.scheduler")
ACTOR = "scheduler"


def post_digest(rt: SlackRuntime, channel: str) -> str:
    digest, message = compose_digest(rt.playbook, channel)
    rt.poster.post(channel, message)
    return f"digest posted to {channel} ({len(digest.models)} models)"


def gc_cycle(app: App, rt: SlackRuntime | None, at: datetime) -> str:
    """Play 6 over every model, then its report. A retry (the post failed, or the replica
    died after collecting) reports the run already made for this slot instead of running GC
    again, which would find nothing and lose the report."""
    done = _gc_run_since(app, at)
    if done is None:
        report = collect_garbage(CollectGarbage(actor=ACTOR), app.ctx)
        done = ([v.short for v in report.collected], report.bytes_freed)
    collected, freed = done
    if not collected:
        return "GC cycle: nothing to remove"
    if rt is None:
        return f"GC cycle: {len(collected)} versions, {freed} bytes freed; no Slack to post to"
    models = {ref.split("@", 1)[0] for ref in collected}
    channels = {app.config.models[m].release_channel for m in models if m in app.config.models}
    channels |= {d.channel for d in app.config.schedule.digest}
    targets = sorted(c for c in channels if c)
    message = gc_report(collected, freed)
    for channel in targets:
        rt.poster.post(channel, message)
    return (f"GC cycle: {len(collected)} versions, {freed} bytes freed; "
            f"posted to {', '.join(targets) or 'no channel'}")


def _gc_run_since(app: App, at: datetime) -> tuple[list[str], int] | None:
    with app.ctx.uow() as uow:
        for run in uow.runs.list(play="gc", limit=20):
            if run.actor == ACTOR and run.status == "succeeded" and run.started_at >= at \
                    and not (run.result or {}).get("dry_run"):
                return list(run.result.get("collected", [])), int(run.result["bytes_freed"])
    return None


def reminder_channel(rt: SlackRuntime, model: str) -> str | None:
    policy = rt.config.model(model)
    return policy.incident_channel or policy.release_channel


def remind(rt: SlackRuntime, model: str) -> str:
    channel = reminder_channel(rt, model)
    if channel is None:
        return f"{model}: no incident or release channel to remind in"
    policy = rt.config.model(model)
    with rt.ctx.uow() as uow:
        status = rehearsal_status(uow, policy, rt.now(), fingerprint_for(rt.playbook, model))
    rt.poster.post(channel, rehearsal_reminder(status, policy.max_time_to_rollback_s))
    return f"{model}: rehearsal reminder posted to {channel} ({status.why})"


def rehearsal_check(rt: SlackRuntime, once: Once, at: datetime) -> str:
    """A reminder for each model due a rehearsal that has a production version to rehearse,
    each claimed on its own, so a retry of the check repeats none of them."""
    due: list[str] = []
    now = rt.now()
    for model, policy in sorted(rt.config.models.items()):
        try:
            with rt.ctx.uow() as uow:
                if uow.tags.get(model, PRODUCTION) is None:
                    continue
                status = rehearsal_status(uow, policy, now, fingerprint_for(rt.playbook, model))
            if status.due and reminder_channel(rt, model) and once.run(
                    f"rehearsal-reminder:{model}", at, partial(remind, rt, model)):
                due.append(model)
        except Exception:  # one model's trouble must not cost the others their reminder
            log.exception("rehearsal check of %s failed", model)
    return f"rehearsal reminders posted for {', '.join(due) or 'no model'}"


def sweep(app: App, rt: SlackRuntime | None, once: Once) -> str:
    """Expire overdue approvals (their cards follow from the RequestExpired events), and warn
    of experiments near expiry in Slack. Each expiry is claimed, so one replica does it."""
    now = app.ctx.clock.now()
    with app.ctx.uow() as uow:
        overdue = [r for r in uow.approvals.pending() if now >= r.expires_at]
    expired = sum(1 for r in overdue if once.run(card_job(r.id), r.expires_at,
                                                 partial(expire_card, app, r.id)))
    if rt is None:
        return f"sweep: {expired} approvals expired; no Slack for experiment warnings"
    warned = 0
    now = rt.now()
    for model, policy in sorted(rt.config.models.items()):
        if policy.release_channel is None:
            continue
        with rt.ctx.uow() as uow:
            expiring = expiring_experiments(uow, model, now)
        for tag, version in expiring:
            assert version.expires_at is not None
            post = _warning(rt, policy.release_channel, tag, version, now)
            if once.run(f"experiment-warning:{model}:{tag}", version.expires_at, post):
                warned += 1
    return f"sweep: {expired} approvals expired, {warned} experiment warnings"


def card_job(request_id: str) -> str:
    return f"card-expired:{request_id}"


def expire_card(app: App, request_id: str) -> str:
    try:
        request = expire_if_overdue(app.ctx, request_id)
    except Conflict:  # decided or expired by someone else this very moment: show that
        request = None
    # Its card is updated by the notifier, from the RequestExpired event the play wrote.
    return f"request {request_id} {request.status if request else 'changed'}"


def _warning(rt: SlackRuntime, channel: str, tag: str, version: Version,
             now: datetime) -> Callable[[], str]:
    def post() -> str:
        rt.poster.post(channel, experiment_warning(tag, version, now))
        return f"warned in {channel} that {version.model} {tag} expires"
    return post
