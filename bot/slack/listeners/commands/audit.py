"""`/audit <request-id>`: play 5. A summary in the channel, the full bundle as a file in its
thread (an audit bundle is long; a wall of text helps nobody)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import parse
from bot.slack.blocks.registry import audit_summary
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core.plays import audit

COMMAND = "/audit"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(COMMAND)
    @reports_errors
    def audit_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        found = audit(parse.audit(command.get("text", ""), command["user_id"]), rt.ctx)
        where, ts = rt.poster.post(command["channel_id"], audit_summary(found))
        rt.poster.upload(where, thread_ts=ts, filename=f"audit-{found.request_id}.json",
                         title=f"Audit bundle for request {found.request_id}",
                         content=json.dumps(found.to_json(), indent=2, sort_keys=True))
