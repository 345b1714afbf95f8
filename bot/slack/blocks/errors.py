"""How a refusal or failure reads in Slack: what was wrong, how to fix it, and anything that
already happened (a tag move is never hidden behind a failed post)."""

from __future__ import annotations

from bot.slack.blocks.common import Message, context, message, section
from core.errors import PlaybookError


def error_message(error: BaseException) -> Message:
    if not isinstance(error, PlaybookError):
        text = (f"Something went wrong on Playbook's side ({type(error).__name__}); nothing "
                "more was done. The bot's log has the details; `playbook runs` shows the "
                "play runs.")
        return message(text, [section(f":boom: {text}")])
    done = getattr(error, "done", None)
    blocks = []
    if done:
        blocks.append(section(f":white_check_mark: {done}"))
    lead = "But: " if done else ""
    blocks.append(section(f":warning: {lead}{error.message}"))
    if error.hint:
        blocks.append(context(f"How to fix: {error.hint}"))
    text = f"{done + ' ' if done else ''}{lead}{error.message}" + (
        f" (how to fix: {error.hint})" if error.hint else "")
    return message(text, blocks)
