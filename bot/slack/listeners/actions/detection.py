"""The buttons of an incident monitoring opened (bot/slack/blocks/detection.py): Roll back
(play 3 to the last known-good, under the same incident-channel rule as /rollback), Investigate
further (play 7 from the alert's start, its report in the card's thread), Dismiss. The card
itself is updated by the notifier, from the DetectionChanged event each decision writes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks.detection import DISMISS, INVESTIGATE, ROLLBACK
from bot.slack.blocks.investigation import investigation_report
from bot.slack.errors import reports_errors
from bot.slack.incidents import require_incident_channel
from bot.slack.runtime import SlackRuntime
from core import queries
from core.commands import Investigate
from core.domain import PRODUCTION
from core.plays import alerts, investigate


def _investigate(rt: SlackRuntime, detection_id: str, actor: str, channel: str,
                 thread: str | None) -> None:
    d = alerts.detection(rt.ctx, detection_id)
    found = investigate(Investigate.parse(model=d.model, actor=actor, onset=d.started_at),
                        rt.ctx)
    tag = queries.tag(rt.ctx, d.model, PRODUCTION)
    rt.poster.post(channel, investigation_report(found, tag.revision if tag else 0),
                   thread_ts=thread)


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(ROLLBACK)
    @reports_errors
    def roll_back(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                  respond: Respond) -> None:
        ack()
        d = alerts.detection(rt.ctx, action["value"])
        channel = body.get("channel") or {}
        require_incident_channel(rt.channels, rt.config.model(d.model), channel.get("id"),
                                 channel.get("name"))
        user = body["user"]["id"]
        rt.work.submit(lambda: alerts.roll_back(d.id, user, rt.ctx, channel=channel.get("id")),
                       respond)

    @app.action(INVESTIGATE)
    @reports_errors
    def investigate_further(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                            respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        thread = (body.get("message") or {}).get("ts")
        channel = (body.get("channel") or {}).get("id") or user
        respond("Investigating: re-running the eval suite on the suspect and its predecessor; "
                "the report follows in this thread.", response_type="ephemeral",
                replace_original=False)
        rt.work.submit(lambda: _investigate(rt, action["value"], user, channel, thread),
                       respond)

    @app.action(DISMISS)
    @reports_errors
    def dismiss(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        alerts.dismiss(action["value"], body["user"]["id"], rt.ctx)
