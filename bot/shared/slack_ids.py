"""Slack's id formats and channel references as playbook.toml writes them, shared by the Slack
app and the sandbox (which plays Slack's part) without either importing the other."""

from __future__ import annotations

import re

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")


def bare(ref: str) -> str:
    """`<#C123|name>`, `#name`, `name`, `C123` -> `C123` or `name`."""
    ref = ref.strip()
    if ref.startswith("<#") and ref.endswith(">"):
        return ref[2:-1].split("|", 1)[0]
    return ref.lstrip("#")


def as_slack_sends(typed: str) -> str:
    """Slash-command text as Slack sends what was typed: `&`, `<` and `>` HTML-escaped (the
    stand-ins, the tests' and the sandbox's, send it so; bot.slack.typed undoes it)."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
