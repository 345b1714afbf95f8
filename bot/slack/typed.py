"""Slash-command text as the person typed it.

Slack sends it HTML-escaped (`&amp;`, `&lt;`, `&gt;`) and, where it recognised a reference,
as `<@U123|name>`, `<#C123|name>`, `<!subteam^S123|@team>`, `<!here>` or a link
`<https://x|x>` / `<mailto:a@b|a@b>`. The edge turns all of it back into what was typed, once,
before any parser sees it: a prompt written `Answer in <json> & ...` is registered as that
text (the same version id as the CLI would give), a link is its text, a mention is `@name`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

REFERENCE = re.compile(r"<([^<>]*)>")
ENTITY = re.compile(r"&(amp|lt|gt);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def _reference(m: re.Match[str]) -> str:
    target, _, label = m.group(1).partition("|")
    if target.startswith("@"):  # a person: the name shown, or the id
        return label if label.startswith("@") else "@" + (label or target[1:])
    if target.startswith("#"):  # a channel
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):  # a user group, labelled "@team"
        return label or "@" + target[len("!subteam^"):]
    if target.startswith("!date^"):
        return label
    if target.startswith("!"):  # <!here>, <!channel>, <!everyone>
        return label or "@" + target[1:]
    return label or target  # a link: the text it showed (the address Slack wrapped)


def typed(text: str) -> str:
    """What was typed: references first (their brackets are Slack's, since a typed `<`
    arrives as `&lt;`), then the three entities, each decoded exactly once."""
    return ENTITY.sub(lambda m: ENTITIES[m.group(1)], REFERENCE.sub(_reference, text))


def decode_command_text(body: dict[str, Any], next: Callable[[], None]) -> None:
    """Bolt middleware: a slash command's `text` as typed, for every listener."""
    if isinstance(body, dict) and body.get("command") and isinstance(body.get("text"), str):
        body["text"] = typed(body["text"])
    next()
