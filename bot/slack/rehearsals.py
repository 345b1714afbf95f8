"""A rollback rehearsal asked for in Slack (`/rehearse`, the reminder's or the App Home's
button). Its record, the confirmation and the verdict against the budget are the notifier's,
from the play's events, posted where it was asked for."""

from __future__ import annotations

from bot.deploy import fingerprint_for
from bot.slack.blocks.common import at
from bot.slack.blocks.common import channel as channel_ref
from bot.slack.blocks.errors import people, refusal_text
from bot.slack.blocks.home import home_view
from bot.slack.runtime import SlackRuntime
from core import queries
from core.commands import Rehearse
from core.errors import PlaybookError
from core.plays.rehearse import RehearsalResult, rehearse


def rehearse_here(rt: SlackRuntime, model: str, actor: str, channel: str) -> RehearsalResult:
    """Run play 3 as a drill (slow: run it after the ack); `channel` gets its record."""
    return rehearse(Rehearse.parse(model=model, actor=actor, channel=channel,
                                   deploy_fingerprint=fingerprint_for(rt.playbook, model)),
                    rt.ctx)


def rehearse_with_home(rt: SlackRuntime, model: str, actor: str, channel: str) -> None:
    """The App Home's button: the Home says at once that the rehearsal runs and where its
    record goes, and is published again when it is done (its "Last rehearsal" then shows
    it); a refusal is said there too, and in the direct message the caller sends."""
    where = "your direct messages with Playbook" if channel == actor else channel_ref(channel)
    publish = rt.poster.publish_home
    publish(actor, home_view(queries.overviews(rt.ctx), {model: (
        f":hourglass_flowing_sand: Rehearsal of {model} started at {at(rt.ctx.clock.now())}; "
        f"its record goes to {where}.")}))
    try:
        result = rehearse_here(rt, model, actor, channel)
    except PlaybookError as exc:
        why = people(refusal_text(exc.message), exc.people)
        publish(actor, home_view(queries.overviews(rt.ctx), {model: (
            f":warning: Rehearsal of {model} refused: {why}")}))
        raise
    ttr = result.incident.time_to_rollback_s
    mark = "over" if result.over_budget else "within"
    publish(actor, home_view(queries.overviews(rt.ctx), {model: (
        f":white_check_mark: Rehearsal of {model} done: time to rollback {ttr:.2f} s, {mark} "
        f"the {result.budget_s:g} s budget; the record is in {where}.")}))
