"""`/rehearse <model>`: play 3 as a drill on the `rehearsal` tag, timed against the model's
time-to-rollback budget; production is never touched."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import names, parse
from bot.slack.errors import reports_errors
from bot.slack.rehearsals import rehearse_here
from bot.slack.runtime import SlackRuntime

COMMAND = "rehearse"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(names.command(COMMAND))
    @reports_errors
    def rehearse_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        model = parse.rehearse(command.get("text", ""), command["user_id"])
        rt.config.model(model)
        user, channel = command["user_id"], command["channel_id"]
        rt.work.submit(lambda: rehearse_here(rt, model, user, channel), respond)
