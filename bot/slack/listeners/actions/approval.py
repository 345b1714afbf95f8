"""Approve / Reject on an approval card: play 2's second approver.

Who may approve is judged by Slack at the moment of the click (SlackApprovers). The card is
re-rendered by the notifier from the play's events (an approval, a decision, an expiry found
at the click), exactly as when the request is decided over HTTP or from the CLI; a refused
click changes nothing, so the card stays as it is.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks.approval import APPROVE, REJECT
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core.commands import Approve, Reject
from core.plays import approve, reject


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(APPROVE)
    @reports_errors
    def approve_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        respond: Respond) -> None:
        ack()
        request_id, user = action["value"], body["user"]["id"]
        ctx = rt.ctx_in(body["container"]["channel_id"])

        # A canary found clearly worse refuses the click (the approve play's step); an override
        # needs a reason, which `playbook approve --override` or the API can give.
        approve(Approve.parse(request_id=request_id, approver=user), ctx)

    @app.action(REJECT)
    @reports_errors
    def reject_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                       respond: Respond) -> None:
        ack()
        request_id, user = action["value"], body["user"]["id"]
        ctx = rt.ctx_in(body["container"]["channel_id"])

        reject(Reject.parse(request_id=request_id, actor=user), ctx)
