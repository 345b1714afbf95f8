"""A rollback rehearsal run from Slack (`/rehearse`, the reminder's button) or by the CLI with
Slack configured: the incident record goes to the channel as the rollback happens, the
confirmation and the verdict against the time budget follow in its thread."""

from __future__ import annotations

from bot.deploy import fingerprint_for
from bot.slack.blocks.digest import rehearsal_done
from bot.slack.incidents import KIND, roll_back_and_report
from bot.slack.runtime import SlackRuntime
from core.commands import Rehearse
from core.plays.rehearse import RehearsalResult, rehearse


def rehearse_and_report(rt: SlackRuntime, model: str, actor: str,
                        channel: str) -> RehearsalResult:
    """Run play 3 as a drill and post it in `channel` (slow: run it after the ack)."""
    order = Rehearse.parse(model=model, actor=actor,
                           deploy_fingerprint=fingerprint_for(rt.playbook, model))
    result = rehearse(order, rt.ctx,
                      roll_back=lambda rollback: roll_back_and_report(rt, rollback, channel))
    where = rt.store.message(KIND, result.incident.id)
    rt.poster.post(where[0] if where else channel, rehearsal_done(result),
                   thread_ts=where[1] if where else None,
                   done=f"rehearsal {result.incident.id} recorded")
    return result
