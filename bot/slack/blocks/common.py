"""Small Block Kit builders and the formatting every message shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from bot.shared.slack_ids import SLACK_CHANNEL, SLACK_USER
from core.timetext import stamp

Block = dict[str, Any]
SECTION_LIMIT = 2900  # Slack refuses section text over 3000 characters


class Message(TypedDict):
    text: str
    blocks: list[Block]


def message(text: str, blocks: list[Block]) -> Message:
    return {"text": text, "blocks": blocks}


def plain(text: str) -> Block:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def section(text: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields(pairs: list[tuple[str, str]]) -> Block:
    """Up to ten `*label*\\nvalue` cells, two to a row."""
    return {"type": "section", "fields": [
        {"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", 1900)} for label, value in pairs[:10]
    ]}


def context(*texts: str) -> Block:
    return {"type": "context",
            "elements": [{"type": "mrkdwn", "text": clip(t, 1900)} for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None,
           confirm: Block | None = None) -> Block:
    block: Block = {"type": "button", "text": plain(text), "action_id": action_id,
                    "value": value}
    if style:
        block["style"] = style
    if confirm:
        block["confirm"] = confirm
    return block


def confirm_dialog(title: str, text: str, yes: str, no: str = "Cancel") -> Block:
    return {"title": plain(title), "text": {"type": "mrkdwn", "text": text},
            "confirm": plain(yes), "deny": plain(no), "style": "danger"}


def actions(block_id: str, *elements: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def esc(text: str) -> str:
    """Text from outside (a reason, a symptom, a note, a request id, an error) made inert in
    mrkdwn and `text`: Slack's three escapes, so `<!channel>`, `<@U…>` or `<https://x|Runbook>`
    written by someone show as typed instead of broadcasting or linking. Every free-text value
    goes through here once, as it goes into a message; what Playbook itself writes (mentions,
    dates, channel links) is built by the helpers here and is not escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit - 20] + "\n… (cut short)"


def code(text: str, limit: int = SECTION_LIMIT) -> str:
    """A preformatted block of plain text (escaped here), cut so the section stays under
    Slack's limit."""
    text = esc(text)
    body = text if len(text) <= limit - 8 else text[:limit - 30] + "\n… (cut short)"
    return f"```{body}```"


def user(actor: str | None) -> str:
    """A Slack user id becomes a mention; a CLI login name stays as it is."""
    if not actor:
        return "-"
    return f"<@{actor}>" if SLACK_USER.match(actor) else esc(actor)


def channel(ref: str | None) -> str:
    if not ref:
        return "-"
    bare = ref.lstrip("#")
    return f"<#{bare}>" if SLACK_CHANNEL.match(bare) else f"#{bare}"


def at(value: datetime | None) -> str:
    """A time each reader sees in their own zone, with a UTC fallback."""
    if value is None:
        return "-"
    fallback = stamp(value)
    return f"<!date^{int(value.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def delta(value: float | None, higher_is_better: bool = True) -> str:
    if value is None:
        return "-"
    better = value > 0 if higher_is_better else value < 0
    mark = ":arrow_up:" if value > 0 else ":arrow_down:" if value < 0 else ":left_right_arrow:"
    return f"{mark} {value:+g}" + (" (better)" if better else " (same)" if value == 0 else "")
