"""`/rollback <model> [to <version>] [because <symptom>]`: play 3, in the incident channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import parse
from bot.slack.errors import reports_errors
from bot.slack.incidents import require_incident_channel, roll_back_and_report
from bot.slack.runtime import SlackRuntime

COMMAND = "/rollback"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(COMMAND)
    @reports_errors
    def rollback_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        order = parse.rollback(command.get("text", ""), command["user_id"])
        require_incident_channel(rt.config.model(order.model), command.get("channel_id"),
                                 command.get("channel_name"))
        channel = command["channel_id"]
        rt.work.submit(lambda: roll_back_and_report(rt, order, channel), respond)
