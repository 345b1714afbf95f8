"""How a refusal or failure reads in Slack: what was wrong, how to fix it, and anything that
already happened (a tag move is never hidden behind a failed post)."""

from __future__ import annotations

import re

from bot.shared.slack_ids import SLACK_USER
from bot.slack.blocks.common import Message, context, esc, message, section
from core.errors import PlaybookError

# What Playbook's Slack side writes into a refusal itself (bot.slack.approvers names the person
# and the channel as mentions): kept; everything else in a refusal is escaped. A refusal only
# ever goes to the person who acted (ephemeral, or their DM), so a mention they typed
# themselves notifies nobody.
OWN_REFERENCE = re.compile(r"(<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+(?:\|[^<>|&]*)?)>)")


def refusal_text(text: str) -> str:
    """A refusal's text made inert (as esc), but for the mentions Playbook wrote into it."""
    parts = OWN_REFERENCE.split(text)
    return "".join(part if n % 2 else esc(part) for n, part in enumerate(parts))


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
    done = people(refusal_text(done), named) if done else done
    said = people(refusal_text(error.message), named)
    hint = people(refusal_text(error.hint), named) if error.hint else ""
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
