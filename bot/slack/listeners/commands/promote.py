"""`/promote <model> <version> [because <reason>]`: play 2. Low stakes moves the tag and
announces it; higher stakes posts an approval card in the model's release channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import parse
from bot.slack.blocks.common import channel as channel_text
from bot.slack.blocks.incident import promoted
from bot.slack.errors import SlackCallFailed, report, reports_errors
from bot.slack.runtime import SlackRuntime
from core.plays import promote

COMMAND = "/promote"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(COMMAND)
    @reports_errors
    def promote_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        order = parse.promote(command.get("text", ""), command["user_id"])
        policy = rt.config.model(order.model)
        with rt.ctx.uow() as uow:
            open_before = [r.id for r in uow.approvals.pending(order.model)]
        result = promote(order, rt.ctx)
        channel = policy.release_channel or command["channel_id"]
        if result.event is not None:
            done = f"Promoted {result.version.short} to production"
            rt.poster.post(channel, promoted(result.event, result.gate), done=done)
            respond(f"{done}; announced in {channel_text(channel)}.",
                    response_type="ephemeral")
            return
        assert result.request is not None
        r = result.request
        rt.cards.post(r.id, channel, done=f"Approval request {r.id} for {result.version.short} "
                                          "was created")
        respond(f"Approval requested in {channel_text(channel)}: `{r.id}` needs {r.required} "
                "approver(s) other than you.", response_type="ephemeral")
        for old in open_before:  # superseded by this request: their cards say so
            try:
                rt.cards.refresh(old)
            except SlackCallFailed as exc:
                exc.done = f"Request {r.id} replaced {old}"
                report(exc, respond)
