"""What Slack refuses in a message or a view, so the stand-ins (the tests' Web API and the
sandbox's) refuse exactly that: each check answers Slack's error code and why, or None.

Block Kit is validated by slack_sdk's own models (field lengths, element counts), plus what
they leave out and Slack enforces: at most 50 blocks a message (100 a view), no unknown block
type, and about 12,000 characters of text across a message's blocks (`msg_blocks_too_long`,
seen from Slack well below the sum of the per-block limits; 12,000 is the conservative figure
the stand-ins use).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
BLOCKS_TEXT = 12_000
TEXT_LIMIT = 40_000  # Slack truncates or refuses beyond this; it advises 4,000
BUTTON_VALUE = 2_000


def block_text(value: object) -> int:
    """How many characters of text blocks hold: every "text" string, at any depth."""
    if isinstance(value, list):
        return sum(block_text(v) for v in value)
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else block_text(v)
                   for k, v in value.items())
    return 0


def _buttons(value: object) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [b for v in value for b in _buttons(v)]
    if isinstance(value, dict):
        own = [value] if value.get("type") == "button" else []
        return own + [b for v in value.values() for b in _buttons(v)]
    return []


def blocks_problem(blocks: object, limit: int) -> tuple[str, str] | None:
    """Slack's error for these blocks, or None when Slack takes them."""
    if not isinstance(blocks, list):
        return "invalid_blocks_format", "blocks must be a JSON array"
    if len(blocks) > limit:
        return "invalid_blocks", f"must be no more than {limit} blocks, not {len(blocks)}"
    for n, raw in enumerate(blocks):
        if not isinstance(raw, dict):
            return "invalid_blocks", f"blocks[{n}] is not an object"
        parsed = Block.parse(raw)
        if parsed is None or type(parsed) is Block:
            return "invalid_blocks", f"blocks[{n}] has an unknown type {raw.get('type')!r}"
        try:
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            return "invalid_blocks", f"blocks[{n}]: {exc}"
    for button in _buttons(blocks):
        if len(str(button.get("value", ""))) > BUTTON_VALUE:
            return "invalid_blocks", f"a button value is over {BUTTON_VALUE} characters"
    return None


def message_problem(text: object, blocks: object) -> tuple[str, str] | None:
    """chat.postMessage, chat.postEphemeral, chat.update and response_url posts."""
    if blocks in (None, "", []):
        if not text:
            return "no_text", "a message needs text or blocks"
    else:
        problem = blocks_problem(blocks, MESSAGE_BLOCKS)
        if problem:
            return problem
        total = block_text(blocks)
        if total > BLOCKS_TEXT:
            return "msg_blocks_too_long", (f"the blocks hold {total} characters of text; "
                                           f"Slack takes about {BLOCKS_TEXT}")
    if isinstance(text, str) and len(text) > TEXT_LIMIT:
        return "msg_too_long", f"text is {len(text)} characters; Slack takes {TEXT_LIMIT}"
    return None


def view_problem(view: object) -> tuple[str, str] | None:
    """views.publish (the App Home)."""
    if not isinstance(view, dict):
        return "invalid_arguments", "view must be a JSON object"
    if view.get("type") != "home":
        return "invalid_arguments", "an App Home view has type \"home\""
    return blocks_problem(view.get("blocks"), VIEW_BLOCKS)
