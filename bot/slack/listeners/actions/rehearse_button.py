""""Run rehearsal now", on a scheduled reminder or on the App Home: the /rehearse drill.

From a reminder the rehearsal is posted where the reminder is, and a refusal is shown to the
person who clicked. From the App Home it goes to the model's incident channel (or, without one,
to the person); a Home click has no response_url, so refusals come as a direct message.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks.digest import REHEARSE_ACTION
from bot.slack.blocks.home import REHEARSE
from bot.slack.errors import reports_errors
from bot.slack.parse import rehearse
from bot.slack.posting import DirectMessage
from bot.slack.rehearsals import rehearse_here, rehearse_with_home
from bot.slack.runtime import SlackRuntime


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(REHEARSE)
    @reports_errors
    def rehearse_from_home(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        model = rehearse(action["value"], user)
        channel = rt.config.model(model).incident_channel or user
        rt.work.submit(lambda: rehearse_with_home(rt, model, user, channel),
                       DirectMessage(rt.client, user))

    @app.action(REHEARSE_ACTION)
    @reports_errors
    def rehearse_from_reminder(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                               respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        model = rehearse(action["value"], user)
        rt.config.model(model)
        channel = (body.get("channel") or {}).get("id") \
            or rt.config.model(model).incident_channel or user
        rt.work.submit(lambda: rehearse_here(rt, model, user, channel), respond)
