"""Roll back from an investigation report: play 3 under the same rules as /rollback (incident
channel only), refused if production moved since the report was made."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks.investigation import ROLLBACK
from bot.slack.errors import reports_errors
from bot.slack.incidents import require_incident_channel
from bot.slack.runtime import SlackRuntime
from core.commands import Rollback
from core.plays import rollback


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(ROLLBACK)
    @reports_errors
    def rollback_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                         respond: Respond) -> None:
        ack()
        seen = json.loads(action["value"])
        channel = body.get("channel") or {}
        require_incident_channel(rt.channels, rt.config.model(seen["model"]),
                                 channel.get("id"), channel.get("name"))
        order = Rollback.parse(model=seen["model"], actor=body["user"]["id"],
                               symptom="regression confirmed by an investigation",
                               expected_revision=seen.get("revision"),
                               channel=channel.get("id"))
        rt.work.submit(lambda: rollback(order, rt.ctx), respond)
