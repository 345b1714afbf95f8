"""A rollback rehearsal asked for in Slack (`/rehearse`, the reminder's or the App Home's
button). Its record, the confirmation and the verdict against the budget are the notifier's,
from the play's events, posted where it was asked for."""

from __future__ import annotations

from bot.deploy import fingerprint_for
from bot.slack.runtime import SlackRuntime
from core.commands import Rehearse
from core.plays.rehearse import RehearsalResult, rehearse


def rehearse_here(rt: SlackRuntime, model: str, actor: str, channel: str) -> RehearsalResult:
    """Run play 3 as a drill (slow: run it after the ack); `channel` gets its record."""
    return rehearse(Rehearse.parse(model=model, actor=actor, channel=channel,
                                   deploy_fingerprint=fingerprint_for(rt.playbook, model)),
                    rt.ctx)
