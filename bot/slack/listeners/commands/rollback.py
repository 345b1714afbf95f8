"""`/rollback <model> [to <version>] [because <symptom>]`: play 3, in the incident channel.

The play runs after the ack (its confirming eval may be slow); the incident record and the
confirmation in its thread follow from the play's events, as for a rollback over HTTP."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import parse
from bot.slack.blocks.incident import rolled_back
from bot.slack.errors import reports_errors
from bot.slack.incidents import require_incident_channel
from bot.slack.runtime import SlackRuntime
from core.plays import rollback

COMMAND = "/rollback"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(COMMAND)
    @reports_errors
    def rollback_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        order = parse.rollback(command.get("text", ""), command["user_id"]).model_copy(
            update={"channel": command["channel_id"]})
        require_incident_channel(rt.channels, rt.config.model(order.model),
                                 command.get("channel_id"), command.get("channel_name"))
        def roll_back() -> None:
            result = rollback(order, rt.ctx)
            respond(f"{rolled_back(result.incident)}; confirmed: {result.incident.confirmation}.",
                    response_type="ephemeral")

        rt.work.submit(roll_back, respond)
