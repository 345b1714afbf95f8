"""`/rollback <model> [to <version>] [because <symptom>]`: play 3, in the incident channel.

The play runs after the ack (its confirming eval may be slow); the incident record and the
confirmation in its thread follow from the play's events, as for a rollback over HTTP.

In a private channel the bot was not invited to, it cannot post: the record and the
confirmation then go in through the command's response_url (visible to the channel), and the
person is told how to invite the bot so that the next record lands by itself."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import names, parse
from bot.slack.blocks.incident import confirmation, incident_record, rolled_back
from bot.slack.errors import reports_errors
from bot.slack.incidents import require_incident_channel
from bot.slack.runtime import SlackRuntime
from core.plays import rollback

COMMAND = "rollback"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(names.command(COMMAND))
    @reports_errors
    def rollback_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        order = parse.rollback(command.get("text", ""), command["user_id"]).model_copy(
            update={"channel": command["channel_id"]})
        policy = rt.config.model(order.model)
        require_incident_channel(rt.channels, policy, command.get("channel_id"),
                                 command.get("channel_name"))

        def roll_back() -> None:
            result = rollback(order, rt.ctx)  # first: nothing asked of Slack delays it
            shut_out = not rt.channels.can_post(command["channel_id"])
            if shut_out:
                respond(**incident_record(result.incident, policy.max_time_to_rollback_s),
                        response_type="in_channel")
                respond(**confirmation(result.incident), response_type="in_channel")
            respond(f"{rolled_back(result.incident)}; confirmed: {result.incident.confirmation}."
                    + (" Playbook is not a member of this channel, so its record came through "
                       "your command; `/invite @Playbook` here so that records (and their "
                       "confirmations in the thread) are posted by themselves."
                       if shut_out else ""),
                    response_type="ephemeral")

        rt.work.submit(roll_back, respond)
