"""`/investigate <model> [since <time>]`: play 7 (re-runs the eval: slow, so after the ack),
reported in the channel with a Roll back button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import names, parse
from bot.slack.blocks.investigation import investigation_report
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core import queries
from core.commands import Investigate
from core.domain import PRODUCTION
from core.plays import investigate

COMMAND = "investigate"


def _investigate(rt: SlackRuntime, order: Investigate, respond: Respond) -> None:
    found = investigate(order, rt.ctx)
    tag = queries.tag(rt.ctx, order.model, PRODUCTION)
    respond(**investigation_report(found, tag.revision if tag else 0),
            response_type="in_channel", replace_original=False)


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(names.command(COMMAND))
    @reports_errors
    def investigate_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        order = parse.investigate(command.get("text", ""), command["user_id"], rt.now())
        rt.config.model(order.model)
        respond(f"Investigating {order.model}: re-running the eval suite on the suspect and "
                "its predecessor; the report follows here.", response_type="ephemeral")
        rt.work.submit(lambda: _investigate(rt, order, respond), respond)
