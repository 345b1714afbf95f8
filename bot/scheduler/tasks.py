"""What each scheduled job does and posts. Each takes the Slack runtime and the time it was
scheduled for; every post goes through `Once`, keyed so that no replica repeats another's."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

from bot.scheduler.once import Once
from bot.slack.blocks.common import channel as channel_text
from bot.slack.blocks.digest import (
    digest_message,
    experiment_warning,
    gc_report,
    rehearsal_reminder,
)
from bot.slack.errors import SlackCallFailed
from bot.slack.rehearsals import fingerprint_of
from bot.slack.runtime import SlackRuntime
from core.commands import CollectGarbage
from core.digest import Digest, build_digest, expiring_experiments
from core.domain import PRODUCTION, Version
from core.errors import Conflict
from core.plays import collect_garbage
from core.plays.approval import expire_overdue
from core.plays.rehearse import rehearsal_status

log = logging.getLogger("playbook.scheduler")
ACTOR = "scheduler"


def digest_for(rt: SlackRuntime, channel: str) -> Digest:
    return build_digest(rt.ctx, rt.config.digest_models(channel),
                        lambda model: fingerprint_of(rt, model))


def post_digest(rt: SlackRuntime, channel: str) -> str:
    digest = digest_for(rt, channel)
    rt.poster.post(channel, digest_message(digest, channel_text(channel)))
    return f"digest posted to {channel} ({len(digest.models)} models)"


def gc_cycle(rt: SlackRuntime) -> str:
    report = collect_garbage(CollectGarbage(actor=ACTOR), rt.ctx)
    if not report.collected:
        return "GC cycle: nothing to remove"
    message = gc_report(report.collected, report.bytes_freed)
    channels = {rt.config.models[v.model].release_channel for v in report.collected
                if v.model in rt.config.models} - {None}
    channels |= {d.channel for d in rt.config.schedule.digest}
    for channel in sorted(c for c in channels if c):
        rt.poster.post(channel, message)
    return (f"GC cycle: {len(report.collected)} versions, {report.bytes_freed} bytes freed; "
            f"posted to {', '.join(sorted(c for c in channels if c)) or 'no channel'}")


def reminder_channel(rt: SlackRuntime, model: str) -> str | None:
    policy = rt.config.model(model)
    return policy.incident_channel or policy.release_channel


def remind(rt: SlackRuntime, model: str) -> str:
    channel = reminder_channel(rt, model)
    if channel is None:
        return f"{model}: no incident or release channel to remind in"
    policy = rt.config.model(model)
    with rt.ctx.uow() as uow:
        status = rehearsal_status(uow, policy, rt.now(), fingerprint_of(rt, model))
    rt.poster.post(channel, rehearsal_reminder(status, policy.max_time_to_rollback_s))
    return f"{model}: rehearsal reminder posted to {channel} ({status.why})"


def rehearsal_check(rt: SlackRuntime, once: Once, at: datetime) -> str | None:
    """A reminder for each model due a rehearsal that has a production version to rehearse.
    Answers what this replica posted (None: nothing, or another replica posted it)."""
    due: list[str] = []
    now = rt.now()
    for model, policy in sorted(rt.config.models.items()):
        with rt.ctx.uow() as uow:
            if uow.tags.get(model, PRODUCTION) is None:
                continue
            status = rehearsal_status(uow, policy, now, fingerprint_of(rt, model))
        if status.due and reminder_channel(rt, model) and once.run(
                f"rehearsal-reminder:{model}", at, partial(remind, rt, model)):
            due.append(model)
    return f"rehearsal reminders posted for {', '.join(due)}" if due else None


def sweep(rt: SlackRuntime, once: Once) -> str:
    """Expire overdue approvals (their cards update) and warn of experiments near expiry."""
    try:
        expired = expire_overdue(rt.ctx)
    except Conflict:  # another replica's sweep expired them at the same moment
        expired = []
    for request in expired:
        try:
            rt.cards.refresh(request.id)
        except SlackCallFailed:
            log.exception("could not update the card of expired request %s", request.id)
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
    return f"sweep: {len(expired)} approvals expired, {warned} experiment warnings"


def _warning(rt: SlackRuntime, channel: str, tag: str, version: Version,
             now: datetime) -> Callable[[], str]:
    def post() -> str:
        rt.poster.post(channel, experiment_warning(tag, version, now))
        return f"warned in {channel} that {version.model} {tag} expires"
    return post
