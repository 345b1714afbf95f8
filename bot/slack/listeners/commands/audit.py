"""`/audit <request-id>`: play 5. A summary in the channel, the full bundle as a file in its
thread (an audit bundle is long; a wall of text helps nobody).

Where the bot is not a member: Slack lets it post in a public channel (chat:write.public) but
not upload there, and neither in a private channel or a DM. The summary then goes in through
the command's response_url, and the thread (or the person) is told how to get the file."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import names, parse
from bot.slack.blocks.common import esc, message, section
from bot.slack.blocks.registry import audit_summary
from bot.slack.errors import SlackCallFailed, reports_errors
from bot.slack.runtime import SlackRuntime
from core.plays import audit

COMMAND = "audit"


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(names.command(COMMAND))
    @reports_errors
    def audit_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        found = audit(parse.audit(command.get("text", ""), command["user_id"]), rt.ctx)
        summary = audit_summary(found)
        try:
            where, ts = rt.poster.post(command["channel_id"], summary)
        except SlackCallFailed as exc:
            if exc.error not in NOT_A_MEMBER:
                raise
            respond(**summary, response_type="in_channel")
            respond(_invite(found.request_id, "this conversation"), response_type="ephemeral")
            return
        try:
            rt.poster.upload(where, thread_ts=ts, filename=f"audit-{found.request_id}.json",
                             title=f"Audit bundle for request {found.request_id}",
                             content=json.dumps(found.to_json(), indent=2, sort_keys=True))
        except SlackCallFailed as exc:
            if exc.error not in NOT_A_MEMBER:
                raise
            note = _invite(found.request_id, "this channel")
            rt.poster.post(where, message(note, [section(f":paperclip: {note}")]),
                           thread_ts=ts)


NOT_A_MEMBER = {"not_in_channel", "channel_not_found"}


def _invite(request_id: str, where: str) -> str:
    return (f"The full audit bundle could not be attached: Playbook is not a member of {where}. "
            f"Invite it with `/invite @Playbook` and run `{names.command(COMMAND)}` again, or "
            f"get the bundle with `playbook audit {esc(request_id)} --json`.")
