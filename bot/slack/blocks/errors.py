"""How a refusal or failure reads in Slack: what was wrong, how to fix it, and anything that
already happened (a tag move is never hidden behind a failed post)."""

from __future__ import annotations

import re

from bot.shared.slack_ids import SLACK_USER
from bot.slack.blocks.common import Message, context, message, section
from core.errors import PlaybookError


def people(text: str, named: tuple[str, ...]) -> str:
    """The people a refusal names (`named`, their user ids), named as Slack does: a mention,
    which shows the person's name. Only whole words, never inside a mention already."""
    for actor in sorted({a for a in named if SLACK_USER.match(a)}, key=len, reverse=True):
        text = re.sub(rf"(?<![\w<@|]){re.escape(actor)}(?![\w>|])", f"<@{actor}>", text)
    return text


def error_message(error: BaseException) -> Message:
    if not isinstance(error, PlaybookError):
        text = (f"Something went wrong on Playbook's side ({type(error).__name__}); nothing "
                "more was done. The bot's log has the details; `playbook runs` shows the "
                "play runs.")
        return message(text, [section(f":boom: {text}")])
    done = getattr(error, "done", None)
    named = error.people
    done = people(done, named) if done else done
    said, hint = people(error.message, named), people(error.hint, named) if error.hint else ""
    blocks = []
    if done:
        blocks.append(section(f":white_check_mark: {done}"))
    lead = "But: " if done else ""
    blocks.append(section(f":warning: {lead}{said}"))
    if hint:
        blocks.append(context(f"How to fix: {hint}"))
    text = f"{done + ' ' if done else ''}{lead}{said}" + (
        f" (how to fix: {hint})" if hint else "")
    return message(text, blocks)
