""""Run rehearsal now" on the App Home: the /rehearse drill, posted in the model's incident
channel (or, without one, to the person who clicked). A Home click has no response_url, so
refusals reach the person as a direct message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.blocks.home import REHEARSE
from bot.slack.errors import reports_errors
from bot.slack.incidents import require_rehearsal_tag, roll_back_and_report
from bot.slack.parse import rehearse
from bot.slack.posting import DirectMessage
from bot.slack.runtime import SlackRuntime


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(REHEARSE)
    @reports_errors
    def rehearse_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        order = rehearse(action["value"], user)
        channel = rt.config.model(order.model).incident_channel or user

        def drill() -> None:
            require_rehearsal_tag(rt, order.model)
            roll_back_and_report(rt, order, channel)

        rt.work.submit(drill, DirectMessage(rt.client, user))
