"""Play 3 from Slack: rollbacks run in the model's incident channel. Their records and
confirmations are the notifier's (bot/slack/notifier.py), from the play's events."""

from __future__ import annotations

import logging

from bot.slack.blocks.common import channel as channel_text
from bot.slack.channels import ChannelDirectory
from bot.slack.names import command
from core.config import ModelPolicy
from core.errors import Refused

KIND = "incident"
log = logging.getLogger("playbook.slack")


def require_incident_channel(channels: ChannelDirectory, policy: ModelPolicy,
                             channel_id: str | None, channel_name: str | None) -> None:
    """Rollbacks happen where the incident is handled (when the model names that channel),
    judged by the channel's id (a private or renamed channel is the same channel)."""
    if policy.incident_channel and not channels.matches(policy.incident_channel, channel_id,
                                                        channel_name):
        where = channel_text(policy.incident_channel)
        raise Refused(f"rollbacks of {policy.name} run only in {where}, its incident channel",
                      hint=f"run `{command('rollback')} {policy.name}` in {where}, so the "
                           "incident record lands where the incident is handled")
