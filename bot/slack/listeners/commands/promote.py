"""`/promote <model> <version> [because <reason>]`: play 2. Low stakes moves the tag;
higher stakes opens an approval request. The announcement or the approval card in the model's
release channel (else this channel) follows from the play's event, as from any surface."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import names, parse
from bot.slack.blocks.approval import rolled_back_text
from bot.slack.blocks.common import channel as channel_text
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core.plays import promote

COMMAND = "promote"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(names.command(COMMAND))
    @reports_errors
    def promote_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        here = command["channel_id"]
        order = parse.promote(command.get("text", ""), command["user_id"]).model_copy(
            update={"channel": here})
        policy = rt.config.model(order.model)
        result = promote(order, rt.ctx)
        where = channel_text(policy.release_channel or here)
        again = "" if not result.rolled_back else (
            f" It was rolled back from before ({rolled_back_text(result.rolled_back)}); your "
            "reason is recorded with it.")
        if result.event is not None:
            respond(f"Promoted {result.version.short} to production; announced in {where}."
                    + again, response_type="ephemeral")
            return
        assert result.request is not None
        r = result.request
        respond(f"Approval requested in {where}: `{r.id}` needs {r.required} "
                "approver(s) other than you." + again, response_type="ephemeral")
